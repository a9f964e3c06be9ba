package handlers

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// pageCache keeps the rendered bytes of the busiest pages (triage and the
// host page), each under the store generation it was drawn at, so that a
// page asked for again before anything it shows has changed is written
// from memory: at 100,000 hosts, triage's queries and rendering cost
// milliseconds, copying its bytes microseconds. Exactness comes from the
// generation (store.Generation), which every committed change moves: a
// page drawn at generation g is served only while g is current.
//
// A page differs by who asks (the header names the user, the actions
// depend on the role) and by the day (the evidence window ends today), so
// both are in its key with the URL's path and query.
type pageCache struct {
	mu    sync.Mutex
	pages map[string]cachedPage
}

type cachedPage struct {
	gen  uint64
	body []byte
	kind string // Content-Type
}

// maxCachedPages bounds the cache; each page is tens of kilobytes.
const maxCachedPages = 256

func (c *pageCache) get(key string, gen uint64) (cachedPage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pages[key]
	return p, ok && p.gen == gen
}

func (c *pageCache) put(key string, p cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages = map[string]cachedPage{}
	}
	if len(c.pages) >= maxCachedPages {
		// Drop the out-of-date pages first; if every page is current
		// (many users or filters at once), one of them, at random (Go's
		// map order), makes room: emptying it all would throw out the
		// pages everyone shares because one user paged far.
		for k, old := range c.pages {
			if old.gen != p.gen {
				delete(c.pages, k)
			}
		}
		for k := range c.pages {
			if len(c.pages) < maxCachedPages {
				break
			}
			delete(c.pages, k)
		}
	}
	c.pages[key] = p
}

// cachedPages serves GET requests from the page cache, and fills it with
// the handler's 200 answers. Anything else (a redirect, an error, HEAD's
// empty body) passes through uncached. It runs after loadUser and require,
// so only what the user may see is ever served to them.
func (h *handler) cachedPages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		u, _ := currentUser(r)
		key := r.URL.Path + "?" + r.URL.RawQuery + "\x00" + u.Name + "\x00" + string(u.Role) + "\x00" +
			time.Now().UTC().Format(time.DateOnly)
		// The generation is read before the page is drawn: a change that
		// commits while it is drawn moves it on, so a page that may have
		// missed the change is never served as current.
		gen := h.store.Generation()
		if p, ok := h.pages.get(key, gen); ok {
			h.metrics.PageCache(true)
			w.Header().Set("Content-Type", p.kind)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(p.body)
			return
		}
		h.metrics.PageCache(false)
		rec := &pageRecorder{statusWriter: statusWriter{ResponseWriter: w}}
		next.ServeHTTP(rec, r)
		if rec.status == http.StatusOK && !rec.passed {
			h.pages.put(key, cachedPage{gen: gen, body: rec.buf.Bytes(), kind: w.Header().Get("Content-Type")})
		}
	})
}

// pageRecorder writes an answer through, noting its status (statusWriter)
// and keeping a copy of its body.
type pageRecorder struct {
	statusWriter
	buf    bytes.Buffer
	passed bool // something other than a plain body went by: don't keep it
}

// Write keeps a copy of b and writes it through.
func (p *pageRecorder) Write(b []byte) (int, error) {
	p.buf.Write(b)
	return p.statusWriter.Write(b)
}

// Unwrap exposes the wrapped writer to http.ResponseController; a handler
// that flushes is streaming, and its answer is not kept.
func (p *pageRecorder) Unwrap() http.ResponseWriter {
	p.passed = true
	return p.ResponseWriter
}
