// Package static embeds Atrium's stylesheet, images and scripts, and serves
// them under content-hashed URLs (/static/css/app.3f9a1c2e.css) with a
// year-long immutable cache: a changed file gets a new URL, so browsers never
// use a stale copy and never revalidate a current one.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed css img
var files embed.FS

// Assets maps logical names to hashed URLs and back.
type Assets struct {
	urls   map[string]string // "css/app.css" -> "/static/css/app.3f9a1c2e.css"
	byHash map[string]string // "css/app.3f9a1c2e.css" -> "css/app.css"
}

// Load hashes every embedded file. It reads only the embedded FS, so it
// cannot fail at runtime except through a build mistake, which panics.
func Load() *Assets {
	a := &Assets{urls: map[string]string{}, byHash: map[string]string{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(p)
		hashed := strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:4]) + ext
		a.urls[p] = "/static/" + hashed
		a.byHash[hashed] = p
		return nil
	})
	if err != nil {
		panic("static: " + err.Error())
	}
	return a
}

// URL returns the hashed URL of a logical asset name such as "css/app.css".
// An unknown name panics in tests and templates alike, so a typo cannot ship.
func (a *Assets) URL(name string) string {
	u, ok := a.urls[name]
	if !ok {
		panic("static: unknown asset " + name)
	}
	return u
}

// ServeHTTP serves a hashed asset; the request path is relative to /static/.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hashed := strings.TrimPrefix(r.URL.Path, "/static/")
	name, ok := a.byHash[hashed]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}
