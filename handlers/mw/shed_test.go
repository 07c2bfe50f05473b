package mw

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atrium-dev/atrium"
)

func TestShed(t *testing.T) {
	e := echo.New()
	release := make(chan struct{})
	entered := make(chan struct{})
	h := Shed(1, 20*time.Millisecond)(func(c echo.Context) error {
		if c.Request().URL.Path == "/slow" {
			close(entered)
			<-release
		}
		return c.NoContent(http.StatusOK)
	})
	serve := func(path string) (int, error) {
		rec := httptest.NewRecorder()
		err := h(e.NewContext(httptest.NewRequest(http.MethodGet, path, nil), rec))
		return rec.Code, err
	}
	done := make(chan struct{})
	go func() { serve("/slow"); close(done) }()
	<-entered

	t.Run("ErrUnavailableWhenFull", func(t *testing.T) {
		_, err := serve("/fast")
		var ae *atrium.Error
		if !errors.As(err, &ae) || ae.Code != atrium.EUNAVAILABLE {
			t.Fatalf("err = %v, want unavailable", err)
		}
	})
	t.Run("ProbesNeverShed", func(t *testing.T) {
		if code, err := serve("/healthz"); err != nil || code != http.StatusOK {
			t.Fatalf("healthz: %d %v", code, err)
		}
	})
	close(release)
	<-done
	t.Run("OKAfterRelease", func(t *testing.T) {
		if code, err := serve("/fast"); err != nil || code != http.StatusOK {
			t.Fatalf("%d %v", code, err)
		}
	})
}
