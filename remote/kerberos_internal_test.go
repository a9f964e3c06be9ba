package remote

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// apRepHeader is a host's "Negotiate <token>" answer carrying an AP-REP
// for ctime/cusec, sealed under key.
func apRepHeader(t *testing.T, key types.EncryptionKey, ctime time.Time, cusec int) string {
	t.Helper()
	b, err := asn1.Marshal(messages.EncAPRepPart{CTime: ctime, Cusec: cusec})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := crypto.GetEncryptedData(asn1tools.AddASNAppTag(b, asnAppTag.EncAPRepPart), key, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: ed})
	if err != nil {
		t.Fatal(err)
	}
	oid, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	inner := append(append(oid, 0x02, 0x00), asn1tools.AddASNAppTag(rep, asnAppTag.APREP)...)
	resp := spnego.NegTokenResp{NegState: asn1.Enumerated(spnego.NegStateAcceptCompleted), SupportedMech: gssapi.OIDKRB5.OID(),
		ResponseToken: asn1tools.AddASNAppTag(inner, 0)}
	tok, err := resp.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(tok)
}

// TestCheckAPRep ensures mutual authentication means something: only an
// answer sealed with the session key and repeating our authenticator's
// time proves the host; another key, another time or a garbled token is
// refused, and no answer at all is accepted (the host did not send one).
func TestCheckAPRep(t *testing.T) {
	key := func(b byte) types.EncryptionKey {
		return types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: []byte(strings.Repeat(string(rune(b)), 32))}
	}
	session := key('s')
	auth := types.Authenticator{CTime: time.Now().UTC().Truncate(time.Second), Cusec: 4242}
	for _, tt := range []struct {
		name    string
		offered []string
		want    string // "" means accepted
	}{
		{"right key and time", []string{apRepHeader(t, session, auth.CTime, auth.Cusec)}, ""},
		{"no answer", nil, ""},
		{"another key", []string{apRepHeader(t, key('x'), auth.CTime, auth.Cusec)}, "does not open"},
		{"another authenticator", []string{apRepHeader(t, session, auth.CTime.Add(-time.Minute), auth.Cusec)}, "another authenticator"},
		{"garbled", []string{"Negotiate " + base64.StdEncoding.EncodeToString([]byte("not a token"))}, "negotiate answer"},
	} {
		err := checkAPRep(tt.offered, session, auth)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want an error mentioning %q", tt.name, err, tt.want)
		}
	}
}
