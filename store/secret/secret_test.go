package secret_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"wsusfix/store/secret"
)

const value = "Pa55-w0rd-value"

// TestSecret_NeverPrinted ensures no fmt verb, encoder or logger shows the
// value, alone, in a struct or behind a pointer.
func TestSecret_NeverPrinted(t *testing.T) {
	t.Parallel()
	s := secret.Secret(value)
	type holder struct {
		Name     string
		Password secret.Secret
		Ptr      *secret.Secret
	}
	h := holder{Name: "svc", Password: s, Ptr: &s}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h))
	}
	outs = append(outs, fmt.Sprint(s, h), fmt.Sprintln(h))
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	type xmlHolder struct{ P secret.Secret }
	x, err := xml.Marshal(xmlHolder{s})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "password", s, "holder", h)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "password", s, slog.Any("holder", h))
	outs = append(outs, string(j), string(x), logs.String())
	for _, out := range outs {
		if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
			t.Fatalf("the value shows in %q", out)
		}
	}
	if !strings.Contains(string(j), `"Password":"[redacted]"`) {
		t.Fatalf("JSON %s does not say the value is redacted", j)
	}
	if s.Reveal() != value || s.Empty() || !secret.Secret("").Empty() {
		t.Fatal("Reveal or Empty is wrong")
	}
}
