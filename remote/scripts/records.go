package scripts

import (
	"regexp"
	"slices"
	"strings"
)

// This file holds the record types of the result lines, one per kind, and
// the vocabularies their fields use. The scripts print the fields in the
// order declared here. Dates are strings "2006-01-02T15:04:05Z" (UTC); a
// script prints null when the host has none, which decodes as "" (and
// FormatLine prints "" back). HRESULTs are unsigned 32-bit numbers, 0 when
// there is none.

// Kinds of result line.
const (
	KindFacts     = "facts"     // Facts: preflight
	KindCheck     = "check"     // Check: preflight
	KindService   = "service"   // Service: stop-services, rename, start-services
	KindHistory   = "history"   // History: save-history
	KindRename    = "rename"    // RenameAttempt: rename
	KindScan      = "scan"      // Scan: detect
	KindEvidence  = "evidence"  // Evidence: verify
	KindFolder    = "folder"    // Folder: cleanup
	KindComputers = "computers" // ComputerBatch: wsus-inventory
	KindWarning   = "warning"   // Warning: any script
	KindResult    = "result"    // Result: the last line of every script
)

// Header holds the fields every result line starts with; see Line.
type Header struct {
	Kind string `json:"kind"`
	Step string `json:"step"`
	TS   string `json:"ts,omitempty"`
}

// Facts describes the host, as preflight found it.
type Facts struct {
	Header
	Computer     string `json:"computer"`
	OSCaption    string `json:"os_caption"`
	OSVersion    string `json:"os_version"` // e.g. "10.0.20348"
	OSBuild      int    `json:"os_build"`
	OS64Bit      bool   `json:"os_64bit"`
	PSVersion    string `json:"ps_version"`
	PSEdition    string `json:"ps_edition"` // "Desktop" (Windows PowerShell) or "Core"
	Process64Bit bool   `json:"process_64bit"`
	IsAdmin      bool   `json:"is_admin"`
	SystemDrive  string `json:"system_drive"` // e.g. "C:"
	FreeMB       int64  `json:"free_mb"`      // -1 when it could not be read
}

// Check is one preflight check. Reason is the reason code the check would
// refuse with (one of the Reason* constants); it is empty when OK.
type Check struct {
	Header
	Name   string `json:"name"` // admin, process_64bit, ps_version, os_version, free_disk, start_mode_wuauserv, start_mode_bits, install_in_progress, reboot_pending
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// Service reports one service stopped or started.
type Service struct {
	Header
	Name   string `json:"name"`
	Action string `json:"action"` // "stop" or "start"
	// Status and Previous are the status after and before the action, as
	// ServiceController names them ("Stopped", "Running", "StopPending"...),
	// or "absent" when the service is not installed.
	Status    string `json:"status"`
	Previous  string `json:"previous"`
	StartMode string `json:"start_mode"` // auto, auto_delayed, manual, disabled, boot, system, unknown, absent
	WaitedMS  int64  `json:"waited_ms"`
	OK        bool   `json:"ok"`
	Detail    string `json:"detail"`
	// Dependents, on a stop, are running services that Windows stopped
	// with this one; start-services should be given them too.
	Dependents []string `json:"dependents"`
}

// History is one page of the host's update history, newest first.
type History struct {
	Header
	Page    int            `json:"page"`  // 0-based
	Start   int            `json:"start"` // index of the first entry on the host
	Total   int            `json:"total"` // entries the host holds
	Entries []HistoryEntry `json:"entries"`
}

// HistoryEntry is one entry of a host's update history (IUpdateHistoryEntry).
type HistoryEntry struct {
	Date       string `json:"date"`
	Operation  string `json:"operation"`   // "installation", "uninstallation" or "other"
	Result     string `json:"result"`      // not_started, in_progress, succeeded, succeeded_with_errors, failed, aborted
	ResultCode int    `json:"result_code"` // OperationResultCode, 0-5
	HResult    uint32 `json:"hresult"`
	UpdateID   string `json:"update_id"` // GUID, the same WSUS uses
	Revision   int    `json:"revision"`
	KB         string `json:"kb"` // "KB5031364", parsed from the title; "" if none
	Title      string `json:"title"`
	ClientApp  string `json:"client_app"` // who ran it, e.g. "AutomaticUpdates"
}

// RenameAttempt is one attempt to rename SoftwareDistribution. Attempt 0
// reports a decision made before trying: the folder was absent (OK) or the
// target existed.
type RenameAttempt struct {
	Header
	From    string `json:"from"`
	To      string `json:"to"`
	Attempt int    `json:"attempt"`
	OK      bool   `json:"ok"`
	HResult uint32 `json:"hresult"`
	Detail  string `json:"detail"`
}

// Scan methods.
const (
	MethodCOMSearch = "com_search" // synchronous search through the Windows Update Agent
	MethodUsoClient = "usoclient"  // UsoClient StartScan, Windows 10 / Server 2016 and later
	MethodWuauclt   = "wuauclt"    // wuauclt /detectnow, older systems
)

// Scan is one search for updates, or the start of the OS's own scan.
type Scan struct {
	Header
	Method  string   `json:"method"`
	Attempt int      `json:"attempt"`
	OK      bool     `json:"ok"`
	Found   *int     `json:"found"`  // updates found; nil when not known
	Result  string   `json:"result"` // as HistoryEntry.Result; "in_progress" at the deadline; "started" for a trigger
	HResult uint32   `json:"hresult"`
	KBs     []string `json:"kbs"` // KBs of the updates found, at most 100
	Detail  string   `json:"detail"`
}

// Verdicts of Evidence and of verify's Result.
const (
	VerdictRepaired     = "repaired"      // an install succeeded after the rename
	VerdictStillFailing = "still_failing" // an install failed again after the rename
	VerdictDownloaded   = "downloaded"    // downloaded again; install not yet attempted
	VerdictUnknown      = "unknown"
)

// Evidence sources.
const (
	SourceHistory  = "history"  // an install result in the update history since the rename
	SourceHotfix   = "hotfix"   // listed as installed (Get-HotFix), date unknown: never a repair
	SourceDownload = "download" // downloaded again, installation not attempted
)

// Evidence is what verify found for one KB or update id, or, when it was
// given none, for the update that decided (KB and UpdateID may then be
// empty).
type Evidence struct {
	Header
	KB       string `json:"kb"`
	UpdateID string `json:"update_id"`
	Verdict  string `json:"verdict"`
	Source   string `json:"source"` // "" for VerdictUnknown
	Date     string `json:"date"`
	HResult  uint32 `json:"hresult"` // the new failure's code, for VerdictStillFailing
	Title    string `json:"title"`
	Detail   string `json:"detail"`
}

// Folder is one SoftwareDistribution backup that cleanup kept or removed.
type Folder struct {
	Header
	Path    string `json:"path"`
	Removed bool   `json:"removed"`
	Bytes   int64  `json:"bytes"`
	Detail  string `json:"detail"` // "kept", "removed" or the error
}

// FailedUpdate is one update WSUS lists as failed on a computer. HResult
// and Time come from WSUS's event history when it still has the client's
// error report.
type FailedUpdate struct {
	UpdateID string `json:"update_id"`
	KB       string `json:"kb"`
	Title    string `json:"title"`
	HResult  uint32 `json:"hresult"`
	Time     string `json:"time"`
}

// ComputerBatch is one batch of the computers wsus-inventory read, in the
// order WSUS listed them. Batches keep the estate out of any one line.
type ComputerBatch struct {
	Header
	Batch     int                 `json:"batch"` // 0-based
	Total     int                 `json:"total"` // computers the query returned, all batches together
	Computers []InventoryComputer `json:"computers"`
}

// InventoryComputer is one computer as the WSUS server knows it: its
// identity, groups, report times, its summary counts
// (GetSummariesPerComputerTarget) and, when it has failures, its failed
// updates.
type InventoryComputer struct {
	ID                 string         `json:"id"` // WSUS computer target GUID
	Name               string         `json:"name"`
	FQDN               string         `json:"fqdn"`
	IP                 string         `json:"ip"`
	OS                 string         `json:"os"`
	OSBuild            int            `json:"os_build"`   // 0 when WSUS has none
	OSVersion          string         `json:"os_version"` // "10.0.26100": OSInfo.Version's Major.Minor.Build (OSVersion, ms752750)
	Groups             []string       `json:"groups"`
	LastSync           string         `json:"last_sync"`
	LastReported       string         `json:"last_reported"`
	FailedCount        int            `json:"failed_count"`
	NeededCount        int            `json:"needed_count"` // not installed or downloaded
	PendingRebootCount int            `json:"pending_reboot_count"`
	UnknownCount       int            `json:"unknown_count"`
	InstalledCount     int            `json:"installed_count"`
	Failed             []FailedUpdate `json:"failed"`
}

// Warning reports a problem that did not stop the script. Code is one of
// the Warn* constants, or in cleanup a Reason* code.
type Warning struct {
	Header
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Statuses of a Result.
const (
	StatusOK      = "ok"      // done (cleanup: possibly with warnings)
	StatusSkipped = "skipped" // nothing to do, e.g. rename with no folder
	StatusFailed  = "failed"  // tried and failed; Reason says why
	StatusRefused = "refused" // preflight: the host is not fit; Reason says why
)

// Result is the last line of every script.
type Result struct {
	Header
	Status  string `json:"status"`
	Reason  string `json:"reason"` // a Reason* code; "" for a plain ok
	Message string `json:"message"`
	// Verdict is set by verify only: the overall verdict.
	Verdict string `json:"verdict,omitempty"`
	// The rest is set by wsus-inventory only. ServerTime is the WSUS
	// server's UTC time when its query began, the next sync's cursor;
	// Computers and Failing count the computers listed and those with
	// failed updates, Events the error events read, Ghosts the updates
	// skipped as missing from the WSUS database.
	ServerTime string `json:"server_time,omitempty"`
	Computers  int    `json:"computers,omitempty"`
	Failing    int    `json:"failing,omitempty"`
	Events     int    `json:"events,omitempty"`
	Ghosts     int    `json:"ghosts,omitempty"`
}

// Exit codes of the scripts. ExitOK also covers StatusSkipped and cleanup,
// which always exits 0.
const (
	ExitOK         = 0
	ExitFailed     = 1
	ExitRefused    = 2
	ExitBadParams  = 3 // ReasonBadParams, or ReasonBadPayload from the bootstrap
	ExitUnexpected = 4 // ReasonUnexpected
)

// DefinitionKBs are the KB numbers definition updates carry, the same on
// every release: Microsoft Defender Antivirus security intelligence
// (KB2267602, several times a day), older Defender definitions (KB915597)
// and Security Essentials (KB2461484). verify.ps1's Test-DefinitionUpdate
// holds the same list.
var DefinitionKBs = []string{"KB2267602", "KB915597", "KB2461484"}

var definitionTitle = regexp.MustCompile(`(?i)Security Intelligence Update|Definition Update`)

// DefinitionUpdate reports whether an update is a definition update, by KB
// or title, as verify.ps1 decides it. Their installs prove nothing about a
// repair: they happen on almost every host, every day.
func DefinitionUpdate(kb, title string) bool {
	return slices.Contains(DefinitionKBs, strings.ToUpper(kb)) || definitionTitle.MatchString(title)
}

// Parts of an update title that change from release to release.
var (
	kindMonth   = regexp.MustCompile(`(?i)^\d{4}-\d{2} `)
	kindKB      = regexp.MustCompile(`(?i)\(KB\d+\)`)
	kindVersion = regexp.MustCompile(`(?i)\(Version [^)]*\)`)
	kindV       = regexp.MustCompile(`(?i) - v[0-9.]+`)
	kindSpace   = regexp.MustCompile(`\s+`)
)

// UpdateKind is an update's title without what changes from release to
// release (the month prefix, the KB, the version), lower case: the
// October and November cumulative updates for one Windows version have
// the same kind. verify.ps1's Get-UpdateKind computes the same.
func UpdateKind(title string) string {
	t := kindMonth.ReplaceAllString(title, "")
	t = kindKB.ReplaceAllString(t, "")
	t = kindVersion.ReplaceAllString(t, "")
	t = kindV.ReplaceAllString(t, "")
	return strings.ToLower(strings.TrimSpace(kindSpace.ReplaceAllString(t, " ")))
}
