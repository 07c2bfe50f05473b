package apptest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromeInstall is the fix printed when no browser is found.
const chromeInstall = "sudo apt-get install -y chromium"

// chromeNames are the programs looked up on PATH, in order, when CHROME_PATH
// is not set.
var chromeNames = []string{"chromium", "chromium-browser", "google-chrome"}

// ChromePath finds the browser for browser tests: CHROME_PATH when it is set
// (strictly: a wrong CHROME_PATH counts as no browser, rather than silently
// testing with another one), otherwise the first of chromium,
// chromium-browser and google-chrome on PATH.
//
// Without a browser it follows the one exception CONVENTIONS.md allows: the
// test skips, loudly and with the install command, unless CI=true, where it
// fails with the same fix.
func ChromePath(t testing.TB) string {
	t.Helper()
	path, why := findChrome()
	if path != "" {
		return path
	}
	bar := strings.Repeat("!", 78)
	if os.Getenv("CI") == "true" {
		t.Fatalf("\n%s\n!!! BROWSER TEST FAILED: CI=true and %s.\n!!! Fix: %s (or set CHROME_PATH to a Chromium or Chrome binary)\n%s",
			bar, why, chromeInstall, bar)
	}
	t.Skipf("\n%s\n!!! BROWSER TEST SKIPPED: %s.\n!!! The journeys in this test were NOT checked.\n!!! Fix: %s (or set CHROME_PATH to a Chromium or Chrome binary)\n!!! With CI=true this is a failure, not a skip.\n%s",
		bar, why, chromeInstall, bar)
	return ""
}

// findChrome returns the browser's path, or "" and why there is none.
func findChrome() (path, why string) {
	if p, ok := os.LookupEnv("CHROME_PATH"); ok && p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Sprintf("CHROME_PATH=%q is not an executable (%v)", p, err)
		}
		return found, ""
	}
	for _, name := range chromeNames {
		if found, err := exec.LookPath(name); err == nil {
			return found, ""
		}
	}
	return "", fmt.Sprintf("no Chromium found (looked for %s on PATH; CHROME_PATH is not set)", strings.Join(chromeNames, ", "))
}

// Browser starts a headless Chromium for t, with a fresh profile, and returns
// the chromedp context of its first tab. The browser is already running when
// Browser returns, so callers may derive timeouts from the context without
// tying the browser's life to them (chromedp binds the browser to the
// context of the first Run). It is closed, and its profile removed, when t
// ends. Browser skips or fails t as ChromePath does when there is no
// browser, and fails t when the browser is there but does not start.
func Browser(t testing.TB) context.Context {
	t.Helper()
	path := ChromePath(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // we may run as root, in a container
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
		// No UserDataDir on purpose: chromedp then creates a fresh temporary
		// profile for this browser and, once it has exited, kills leftover
		// helper processes and removes the directory with retries. A
		// t.TempDir profile would race Chromium's crash handler on cleanup.
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)

	// chromedp reports protocol trouble through these; keep it in the test
	// log, but never after the test has ended.
	var mu sync.Mutex
	ended := false
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			t.Logf("chromedp: "+format, args...)
		}
	}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	t.Cleanup(func() {
		cancel()      // closes the browser and waits for it
		cancelAlloc() // waits until the profile is removed
		mu.Lock()
		ended = true
		mu.Unlock()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("apptest: start %s: %v\nThe browser is installed but did not start; run it by hand with --headless to see why.", path, err)
	}
	return ctx
}
