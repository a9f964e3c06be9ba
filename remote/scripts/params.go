package scripts

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

// In every parameter struct a zero (or negative) number, an empty string or
// a nil slice means "the script's default"; numbers above a field's maximum
// are capped by the script. The defaults and limits are listed per field and
// live in the scripts, which check every value again, so a wrong value from
// any caller is refused or capped on the host.

// PreflightParams are the parameters of the preflight script.
type PreflightParams struct {
	// MinFreeGB is the free space the system drive must have (default 10,
	// at most 1000).
	MinFreeGB int `json:"min_free_gb"`
}

// SaveHistoryParams are the parameters of the save-history script.
type SaveHistoryParams struct {
	// PageSize is how many entries one QueryHistory call reads and one
	// "history" line carries (default 50, at most 200).
	PageSize int `json:"page_size"`
	// Max is how many entries to read at most, newest first (default 500,
	// at most 10000).
	Max int `json:"max"`
}

// StopServicesParams are the parameters of the stop-services script.
type StopServicesParams struct {
	// Services are service names (not display names) in the order to stop
	// them (default DefaultServices()). Each must match
	// ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$ or the script refuses them.
	Services []string `json:"services"`
	// TimeoutSec is how long to wait for each service to stop (default 60,
	// at most 600).
	TimeoutSec int `json:"timeout_sec"`
	// BestEffort names those of Services whose refusal to stop is a
	// warning, not a failure (default none).
	BestEffort []string `json:"best_effort"`
}

// RenameParams are the parameters of the rename script.
type RenameParams struct {
	// Stamp names the backup folder SoftwareDistribution.SDTemp-<Stamp>;
	// required, in the form Stamp returns, e.g. "20261123T224501Z".
	Stamp string `json:"stamp"`
	// Attempts is how many times to try the rename (default 5, at most 20).
	Attempts int `json:"attempts"`
	// RetryDelaySec is the pause before the services are stopped again and
	// the next attempt starts (default 2, at most 60).
	RetryDelaySec int `json:"retry_delay_sec"`
	// Services are stopped again before every attempt, the first included
	// (default DefaultServices()).
	Services []string `json:"services"`
	// TimeoutSec bounds each of those stops (default 60, at most 600).
	TimeoutSec int `json:"timeout_sec"`
}

// StartServicesParams are the parameters of the start-services script.
type StartServicesParams struct {
	// Services are in the order they were stopped, plus any dependents
	// stop-services reported; the script starts them in reverse (default
	// DefaultServices()).
	Services []string `json:"services"`
	// TimeoutSec is how long to wait for each service to run (default 60,
	// at most 600).
	TimeoutSec int `json:"timeout_sec"`
}

// DetectParams are the parameters of the detect script.
type DetectParams struct {
	// Retries is how many more searches follow one that failed with
	// 0x80244010 (default 3, at most 10).
	Retries int `json:"retries"`
	// TimeoutSec is how long the searches may take in all (default 3600,
	// at most 14400). A search still running then is left to run and the
	// step ends ok with ReasonScanRunning; the caller's deadline should
	// leave the script time to say so.
	TimeoutSec int `json:"timeout_sec"`
}

// VerifyParams are the parameters of the verify script.
type VerifyParams struct {
	// Since is when the folder was renamed by the host's own clock (the
	// time stamp of rename's result line), RFC 3339 in UTC, e.g.
	// "2026-11-23T22:45:01Z"; required. History before it is ignored.
	Since string `json:"since"`
	// KBs are the updates that were failing, e.g. "KB5031364"; each must
	// match ^KB[0-9]{1,8}$.
	KBs []string `json:"kbs"`
	// UpdateIDs are the failing updates' GUIDs, for updates without a KB or
	// beside it.
	UpdateIDs []string `json:"update_ids"`
	// Kinds, used only when KBs and UpdateIDs are empty, are the kinds
	// (UpdateKind) of the updates that had failed: an update of one of
	// these kinds counts. With no kinds either, any update since Since
	// counts. Definition updates never count. At most 50, of 300
	// characters each.
	Kinds []string `json:"kinds"`
}

// CleanupParams are the parameters of the cleanup script.
type CleanupParams struct {
	// Keep is how many of the newest SDTemp backups survive (default and
	// minimum 1, so the backup the current repair made is never removed;
	// at most 100).
	Keep int `json:"keep"`
}

// WSUSInventoryParams are the parameters of the wsus-inventory script, the
// inventory sync's collector on the WSUS server.
type WSUSInventoryParams struct {
	// Server is the WSUS server's host name as seen from the host the
	// script runs on (default "localhost"); it must be a DNS name or IPv4
	// address.
	Server string `json:"server"`
	// Port is WSUS's port (default 8530, or 8531 with UseSSL).
	Port int `json:"port"`
	// UseSSL connects over HTTPS.
	UseSSL bool `json:"use_ssl"`
	// Since, RFC 3339 in UTC, asks for the computers that reported since
	// then and the error events since then: an incremental sync. Empty
	// lists every computer: a full reconcile.
	Since string `json:"since"`
	// EventDays is how far back a full reconcile reads the event history
	// (default 15, WSUS's default ClientEventExpirationTime; at most 90).
	EventDays int `json:"event_days"`
	// BatchSize is how many computers one "computers" line carries
	// (default 200, at most 500), which keeps every line far below
	// WinRM's envelope size.
	BatchSize int `json:"batch_size"`
}

// paramTypes maps every script to its parameter struct; Payload refuses a
// struct of another script, and NewParams hands out a fresh one.
var paramTypes = map[string]reflect.Type{
	Preflight:     reflect.TypeFor[PreflightParams](),
	SaveHistory:   reflect.TypeFor[SaveHistoryParams](),
	StopServices:  reflect.TypeFor[StopServicesParams](),
	Rename:        reflect.TypeFor[RenameParams](),
	StartServices: reflect.TypeFor[StartServicesParams](),
	Detect:        reflect.TypeFor[DetectParams](),
	Verify:        reflect.TypeFor[VerifyParams](),
	Cleanup:       reflect.TypeFor[CleanupParams](),
	WSUSInventory: reflect.TypeFor[WSUSInventoryParams](),
}

// NewParams returns a pointer to a new zero parameter struct for the script
// name (for example *RenameParams for Rename), ready for DecodeParams.
func NewParams(name string) (any, error) {
	t, ok := paramTypes[name]
	if !ok {
		return nil, fmt.Errorf("scripts: unknown script %q", name)
	}
	return reflect.New(t).Interface(), nil
}

// DefaultServices returns the services the repair stops and starts when a
// parameter struct names none: Windows Update, BITS and Delivery
// Optimization (absent before Windows 10, which the scripts accept). The
// caller owns the returned slice.
func DefaultServices() []string {
	return []string{"wuauserv", "BITS", "DoSvc"}
}

// StampLayout is the time layout of RenameParams.Stamp.
const StampLayout = "20060102T150405Z"

// Stamp formats t in UTC as a RenameParams.Stamp, e.g. "20261123T224501Z".
// Its fixed width makes the backup folders sort by time.
func Stamp(t time.Time) string {
	return t.UTC().Format(StampLayout)
}

// EncodeParams encodes v as the scripts receive their parameters: JSON
// (UTF-8, compact) in standard base64 with padding, one line with no line
// break. It is the one definition of that format; DecodeParams reverses it.
//
// Strings that are not valid UTF-8 cannot be carried by JSON: each invalid
// byte arrives as U+FFFD.
func EncodeParams(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// HTML escaping would only obscure the JSON; base64 carries any byte.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("scripts: encode parameters: %w", err)
	}
	return base64.StdEncoding.EncodeToString(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// DecodeParams decodes base64 JSON made by EncodeParams into v, a pointer.
// It is strict, so a simulator notices a caller that drifted from the
// contract: the base64 must be canonical and padded, and the JSON must be
// one value whose fields v all knows.
func DecodeParams(b64 string, v any) error {
	// The base64 decoder skips line breaks even when strict; the bootstrap
	// would have split the payload there.
	if strings.ContainsAny(b64, "\r\n") {
		return fmt.Errorf("scripts: parameters contain a line break")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return fmt.Errorf("scripts: parameters are not base64: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("scripts: parameters are not the expected JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("scripts: parameters hold more than one JSON value")
	}
	return nil
}
