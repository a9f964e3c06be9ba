package handlers

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Sign-in throttling: after loginFailsPerUser failures for one account, or
// loginFailsPerClient from one address, within loginWindow, further
// attempts are refused until the oldest failure ages out. The per-account
// limit stays below common directory lockout thresholds (5–10), so an
// attacker cannot use wsusfix to lock an account in a directory behind it.
const (
	loginWindow         = 15 * time.Minute
	loginFailsPerUser   = 5
	loginFailsPerClient = 20
	throttleMaxKeys     = 10000 // beyond this, expired keys are swept
)

// throttle counts recent sign-in failures per account and per client
// address. Safe for concurrent use.
type throttle struct {
	mu    sync.Mutex
	now   func() time.Time
	fails map[string][]time.Time // key → failure times, oldest first
}

func newThrottle() *throttle {
	return &throttle{now: time.Now, fails: map[string][]time.Time{}}
}

// userKeyOf is the account a sign-in name counts against. A directory
// account has several written forms (jdoe, jdoe@corp.example.com,
// CORP\jdoe) and one lockout counter in the directory, so the forms share
// one count here: the domain part is dropped. (Local names holding @ or \
// then share a count with their bare form, which is only stricter.)
func userKeyOf(name string) string {
	name = strings.ToLower(name)
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	return "user:" + name
}

func clientKeyOf(client string) string { return "client:" + client }

// recent returns key's failures still inside the window, dropping the rest.
// Call with mu held.
func (t *throttle) recent(key string, now time.Time) []time.Time {
	fs := t.fails[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= loginWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.fails, key)
	} else {
		t.fails[key] = fs
	}
	return fs
}

// attempt is one counted sign-in attempt, handed back by succeeded.
type attempt struct {
	name, client string
	at           time.Time
}

// begin counts a sign-in attempt for name from client, before any
// password work, and returns it; or, when either limit is already reached,
// counts nothing and returns how long to wait. Checking and counting
// happen under one lock, so parallel guesses cannot all pass the check:
// once the limit's worth are counted, the rest are refused. An attempt
// stays counted as a failure unless succeeded takes it back. Unknown and
// known names are treated alike.
func (t *throttle) begin(name, client string) (attempt, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.fails) > throttleMaxKeys {
		for k := range t.fails {
			t.recent(k, now)
		}
	}
	keys := []struct {
		key   string
		limit int
	}{{userKeyOf(name), loginFailsPerUser}, {clientKeyOf(client), loginFailsPerClient}}
	var wait time.Duration
	for _, k := range keys {
		if fs := t.recent(k.key, now); len(fs) >= k.limit {
			wait = max(wait, loginWindow-now.Sub(fs[len(fs)-k.limit]))
		}
	}
	if wait > 0 {
		return attempt{}, wait
	}
	// Both lists are below their limits here, so they never outgrow them.
	for _, k := range keys {
		t.fails[k.key] = append(t.fails[k.key], now)
	}
	return attempt{name: name, client: client, at: now}, 0
}

// succeeded takes a successful attempt back: the account's failures are
// cleared, and the address's count loses this attempt only, so one good
// password does not reset guessing at other accounts.
func (t *throttle) succeeded(a attempt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, userKeyOf(a.name))
	k := clientKeyOf(a.client)
	fs := t.fails[k]
	if i := slices.IndexFunc(fs, a.at.Equal); i >= 0 {
		fs = slices.Delete(fs, i, i+1)
	}
	if len(fs) == 0 {
		delete(t.fails, k)
	} else {
		t.fails[k] = fs
	}
}

// clientAddr is the client's IP address: the connection's peer, unless that
// peer is a configured trusted proxy, in which case X-Forwarded-For is read
// from the right, skipping trusted proxies. Nothing else is believed, since
// any client can send any header.
func (h *handler) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if !h.trustedProxy(ip) {
		return ip.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		ip = hop.Unmap()
		if !h.trustedProxy(ip) {
			break
		}
	}
	return ip.String()
}

func (h *handler) trustedProxy(ip netip.Addr) bool {
	for _, p := range h.trustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
