package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-dev/atrium/handlers"
	"github.com/atrium-dev/atrium/handlers/email"
	"github.com/atrium-dev/atrium/handlers/mw"
)

// config is everything read from the environment. Every variable is listed
// in README.md with its default.
type config struct {
	Addr           string // ADDR
	MetricsAddr    string // METRICS_ADDR
	DatabaseURL    string // DATABASE_URL
	MigrationURL   string // MIGRATION_DATABASE_URL
	ListenURL      string // DATABASE_LISTEN_URL: a direct connection for LISTEN (default DATABASE_URL)
	EntryCache     int    // ENTRY_CACHE: signed-in members' entries kept in memory; 0 turns the cache off
	DataDir        string // DATA_DIR (dev only)
	LogFormat      string // LOG_FORMAT: text or json
	LogLevel       slog.Level
	MaxConns       int32 // DB_MAX_CONNS
	ShutdownPeriod time.Duration
	OrgRetention   time.Duration // ORG_RETENTION: how long a deleted organization is kept
	// SMTPURL (SMTP_URL) is where email goes; empty keeps it in the outbox
	// table, shown at /console/outbox. It holds a password: never log it.
	SMTPURL  string
	SMTPFrom string // SMTP_FROM, the From of every email
	Web      handlers.Config
}

// loadConfig reads the environment; dev selects the defaults of `make run`.
func loadConfig(dev bool) (config, error) {
	c := config{
		Addr:         env("ADDR", ":8080"),
		MetricsAddr:  os.Getenv("METRICS_ADDR"),
		DatabaseURL:  os.Getenv("DATABASE_URL"),
		MigrationURL: os.Getenv("MIGRATION_DATABASE_URL"),
		ListenURL:    os.Getenv("DATABASE_LISTEN_URL"),
		DataDir:      env("DATA_DIR", ".data"),
		LogFormat:    env("LOG_FORMAT", map[bool]string{true: "text", false: "json"}[dev]),
		SMTPURL:      os.Getenv("SMTP_URL"),
		SMTPFrom:     env("SMTP_FROM", "Atrium <no-reply@atrium.localhost>"),
		Web: handlers.Config{
			Dev:       dev || os.Getenv("DEV") == "true",
			BodyLimit: env("BODY_LIMIT", "1M"),
		},
	}
	var errs []string
	if err := c.LogLevel.UnmarshalText([]byte(env("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, "LOG_LEVEL: use debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, "LOG_FORMAT: use text or json")
	}
	dur := func(name, def string) time.Duration {
		d, err := time.ParseDuration(env(name, def))
		if err != nil || d <= 0 {
			errs = append(errs, name+": use a duration such as 30m or 12h")
		}
		return d
	}
	c.Web.SessionIdleTimeout = dur("SESSION_IDLE_TIMEOUT", "2h")
	c.Web.SessionLifetime = dur("SESSION_LIFETIME", "24h")
	c.ShutdownPeriod = dur("SHUTDOWN_TIMEOUT", "15s")
	c.OrgRetention = dur("ORG_RETENTION", "720h")
	if n, err := strconv.Atoi(env("MAX_IN_FLIGHT", "128")); err != nil || n < 1 {
		errs = append(errs, "MAX_IN_FLIGHT: use a positive number")
	} else {
		c.Web.MaxInFlight = n
	}
	if n, err := strconv.Atoi(env("DB_MAX_CONNS", "16")); err != nil || n < 1 {
		errs = append(errs, "DB_MAX_CONNS: use a positive number")
	} else {
		c.MaxConns = int32(n)
	}
	if n, err := strconv.Atoi(env("ENTRY_CACHE", "50000")); err != nil || n < 0 {
		errs = append(errs, "ENTRY_CACHE: use a number of entries, or 0 to turn the cache off")
	} else {
		c.EntryCache = n
	}
	for _, s := range strings.FieldsFunc(os.Getenv("TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			errs = append(errs, "TRUSTED_PROXIES: "+s+" is not a CIDR such as 10.0.0.0/8")
			continue
		}
		c.Web.TrustedProxies = append(c.Web.TrustedProxies, n)
	}
	// NewSMTP only parses, so a malformed SMTP_URL or SMTP_FROM stops the
	// server here instead of failing the first invitation.
	if c.SMTPURL != "" {
		if _, err := email.NewSMTP(c.SMTPURL, c.SMTPFrom); err != nil {
			errs = append(errs, strings.TrimPrefix(err.Error(), "email: "))
		}
	}
	c.Web.ServeMetrics = c.MetricsAddr == ""
	c.Web.BaseURL = strings.TrimRight(os.Getenv("BASE_URL"), "/")
	if c.Web.BaseURL == "" {
		port := "8080"
		if _, p, err := net.SplitHostPort(c.Addr); err == nil && p != "" {
			port = p
		}
		c.Web.BaseURL = "http://localhost:" + port
	} else if !strings.HasPrefix(c.Web.BaseURL, "https://") && !strings.HasPrefix(c.Web.BaseURL, "http://") {
		errs = append(errs, "BASE_URL: use an absolute URL such as https://atrium.example.com")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// newLogger builds the process logger: JSON in production, readable text in
// dev, with the request's ids added to every line by mw.ContextHandler.
func newLogger(c config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	var h slog.Handler
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	} else {
		h = slog.NewTextHandler(os.Stderr, opts)
	}
	return slog.New(mw.ContextHandler{Handler: h})
}
