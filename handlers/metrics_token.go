package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// handleMetrics serves GET /metrics on the dashboard's listener, to a
// scraper holding the metrics token (Prometheus: authorization:
// credentials_file). No session or API token is read: the metrics token
// opens the metrics and nothing else, and no user's token opens them.
// Without a metrics token configured the route does not exist (404), as
// metrics are then only on -metrics-addr, if anywhere.
func (h *handler) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if h.metricsToken == ([sha256.Size]byte{}) {
		h.handleNotFound(w, r)
		return
	}
	sent, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sum := sha256.Sum256([]byte(strings.TrimSpace(sent)))
	// Digests of equal length, compared in constant time: the answer's
	// timing says nothing of how much of a guess was right.
	if !ok || subtle.ConstantTimeCompare(sum[:], h.metricsToken[:]) != 1 {
		h.log.Warn("metrics refused: no or wrong metrics token", "client", h.clientAddr(r), "request_id", requestIDFrom(r.Context()))
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsusfix metrics"`)
		http.Error(w, "The metrics need the metrics token as a bearer token.", http.StatusUnauthorized)
		return
	}
	h.metrics.Handler().ServeHTTP(w, r)
}
