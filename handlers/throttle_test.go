package handlers_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"wsusfix/store"
)

// TestLogin_ThrottleParallel ensures the throttle cannot be raced: of 40
// wrong passwords for one account sent at once, exactly the limit's worth
// (5) are checked and answered 401, and the rest get 429 without any
// password work; the right password then also gets 429, as the README
// says. Across 30 accounts at once from one address, at most 20 are
// checked.
func TestLogin_ThrottleParallel(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ensureUser(t, a.st, "olga", store.RoleOperator)
	fire := func(n int, name func(i int) string) map[int]int {
		var mu sync.Mutex
		var wg sync.WaitGroup
		counts := map[int]int{}
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				res, err := newClient(false).PostForm(a.srv.URL+"/login", url.Values{"username": {name(i)}, "password": {"guess"}})
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				mu.Lock()
				counts[res.StatusCode]++
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		return counts
	}
	got := fire(40, func(int) string { return "olga" })
	if got[http.StatusUnauthorized] != 5 || got[http.StatusTooManyRequests] != 35 {
		t.Fatalf("40 parallel wrong passwords for one account: %v, want 5 × 401 and 35 × 429", got)
	}
	if res, _ := a.login(t, newClient(false), "olga", testPassword, ""); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right password during the lockout: %d, want 429", res.StatusCode)
	}
	// 5 failures from this address so far; 15 more are allowed across accounts.
	got = fire(30, func(i int) string { return "user" + strconv.Itoa(i) })
	if got[http.StatusUnauthorized] != 15 || got[http.StatusTooManyRequests] != 15 {
		t.Fatalf("30 parallel wrong passwords across accounts: %v, want 15 × 401 and 15 × 429", got)
	}
	entries, _, err := a.st.AuditEntries(t.Context(), store.AuditFilter{Action: store.ActionLoginFailed, Outcome: store.OutcomeFailed})
	if err != nil || len(entries) != 20 {
		t.Fatalf("%d checked failures audited (%v), want 20", len(entries), err)
	}
}
