package mw

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP collectors. Labels are the route template, method and
// status, never a tenant or a raw path, so cardinality stays bounded.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atrium_http_requests_total",
			Help: "HTTP requests served, by route template, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "atrium_http_request_duration_seconds",
			Help:    "HTTP request latency, by route template, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atrium_errors_total",
			Help: "Errors answered to users, by application error code.",
		}, []string{"code"}),
	}
	reg.MustRegister(m.requests, m.latency, m.errors)
	return m
}

// Middleware counts and times every request.
func (m *Metrics) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			status := strconv.Itoa(c.Response().Status)
			method := c.Request().Method
			m.requests.WithLabelValues(route, method, status).Inc()
			m.latency.WithLabelValues(route, method, status).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// CountError records one error answered with the given code.
func (m *Metrics) CountError(code string) { m.errors.WithLabelValues(code).Inc() }
