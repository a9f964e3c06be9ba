// Package static serves wsusfix's embedded CSS, JavaScript and images under
// content-hashed names, so browsers may cache them for a year and a new
// build is never served stale. It performs no other I/O.
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
	"sync"
	"time"
)

//go:embed css js
var files embed.FS

// index maps logical names ("css/app.css") to hashed names
// ("css/app.3f2a9c01d4e5.css") and back. Built once, on first use.
var index = sync.OnceValue(func() *assetIndex {
	ix := &assetIndex{hashed: map[string]string{}, logical: map[string]string{}}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(p)
		h := strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ix.hashed[p], ix.logical[h] = h, p
		return nil
	})
	return ix
})

type assetIndex struct {
	hashed  map[string]string // logical → hashed
	logical map[string]string // hashed → logical
}

// Path returns the URL of the named asset (e.g. "css/app.css"), with its
// content hash in the name. It panics on an unknown name: that is a
// programming error caught by any test that renders the page.
func Path(name string) string {
	h, ok := index().hashed[name]
	if !ok {
		panic("static: no asset " + name)
	}
	return "/static/" + h
}

// Handler serves assets by hashed name, for mounting under /static/ with the
// prefix stripped. Hashed names are cached as immutable; anything else is 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := index().logical[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, _ := files.ReadFile(name)
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeContent(w, r, name, time.Time{}, strings.NewReader(string(b)))
	})
}
