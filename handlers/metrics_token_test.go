package handlers_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"wsusfix/handlers"
	"wsusfix/handlers/metrics"
	"wsusfix/store"
	"wsusfix/store/secret"
)

// TestMetricsToken ensures /metrics on the dashboard's listener answers
// only the metrics token: not an anonymous scraper, not a wrong token, not
// an admin's session or API token; and that without a metrics token it is
// not there at all. The token never reaches the log.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "metrics-token-7f3a9c2e41b86d05e1f4a7c3b9d2e6f0"
	a := newApp(t, signedInAs("root", store.RoleAdmin), withDeps(handlers.Deps{
		Metrics: metrics.New(nil, ""), MetricsToken: secret.Secret(token)}))
	admin, err := a.st.UserByName(t.Context(), "root")
	if err != nil {
		t.Fatal(err)
	}
	apiToken, _, err := a.st.CreateToken(t.Context(), admin, "scraper", store.RoleAdmin, 1)
	if err != nil {
		t.Fatal(err)
	}
	get := func(c *http.Client, auth string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	for _, tt := range []struct {
		name   string
		client *http.Client
		auth   string
	}{
		{"nothing", http.DefaultClient, ""},
		{"a wrong token", http.DefaultClient, "Bearer " + token[:len(token)-1] + "1"},
		{"the token, not as bearer", http.DefaultClient, "Basic " + token},
		{"an admin's API token", http.DefaultClient, "Bearer " + string(apiToken)},
		{"an admin's session", a.client, ""},
	} {
		code, body, h := get(tt.client, tt.auth)
		if code != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d (WWW-Authenticate %q), want 401 asking for a bearer token", tt.name, code, h.Get("WWW-Authenticate"))
		}
		if strings.Contains(body, "wsusfix_") {
			t.Errorf("%s: metrics served", tt.name)
		}
	}
	code, body, _ := get(http.DefaultClient, "Bearer "+token)
	if code != http.StatusOK || !strings.Contains(body, "wsusfix_http_requests_total") {
		t.Errorf("with the token: %d, %.200q; want the metrics", code, body)
	}
	if strings.Contains(a.log.String(), token[8:]) {
		t.Error("the metrics token appears in the log")
	}

	plain := newApp(t, withDeps(handlers.Deps{Metrics: metrics.New(nil, "")}))
	res, err := http.Get(plain.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("without a metrics token: %d, want 404", res.StatusCode)
	}
}
