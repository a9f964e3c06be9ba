package handlers

import (
	"net/http"
)

// openAPI describes /api/v1 in OpenAPI 3.1. TestOpenAPI_MatchesRoutes
// fails when a route is missing here or a path here is not routed, so the
// document cannot drift from the API.
var openAPI = map[string]any{
	"openapi": "3.1.0",
	"info": map[string]any{
		"title":       "wsusfix API",
		"version":     "1",
		"description": "Failing WSUS hosts, their history, and KB 910336 repair runs. Authenticate with an API token (profile page) as Authorization: Bearer <token>. Bodies are URL-encoded forms. Errors are RFC 9457 problem documents.",
	},
	"components": map[string]any{
		"securitySchemes": map[string]any{"token": map[string]any{"type": "http", "scheme": "bearer"}},
		"schemas": map[string]any{
			"Problem": obj(map[string]any{"type": str(), "title": str(), "status": integer(), "detail": str(), "instance": str(), "link": str()}),
			"Failure": obj(map[string]any{"kb": str(), "title": str(), "hresult": str(), "symbol": str(), "meaning": str(),
				"suggested_action": str(), "kb910336_applies": boolean(), "failed_at": dateTime()}),
			"Host": obj(map[string]any{"name": str(), "fqdn": str(), "address": str(), "os": str(), "os_build": str(), "group": str(),
				"groups": list(str()), "state": str(), "last_report": dateTime(), "gone_from_wsus": boolean(), "failure": ref("Failure")}),
			"Run": obj(map[string]any{"id": integer(), "host": str(), "procedure": enum("repair", "check", "history"), "batch": integer(),
				"state": str(), "outcome": str(), "summary": str(), "requested_by": str(), "created_at": dateTime(),
				"started_at": dateTime(), "finished_at": dateTime(), "page": str()}),
			"HistoryEntry": obj(map[string]any{"time": dateTime(), "kb": str(), "title": str(), "operation": str(), "result": str(),
				"hresult": str(), "symbol": str(), "source": str(), "update_id": str()}),
			"Batch": obj(map[string]any{"id": integer(), "procedure": str(), "description": str(), "requested_by": str(),
				"created_at": dateTime(), "runs": integer(), "ended": integer(), "outcomes": map[string]any{"type": "object"}, "page": str()}),
			"Event": obj(map[string]any{"seq": integer(), "kind": str(), "step": str(), "stream": str(), "text": str(),
				"status": str(), "duration_ms": integer(), "detail": str(), "at": dateTime()}),
		},
	},
	"security": []any{map[string]any{"token": []any{}}},
	"paths": map[string]any{
		"/api/v1/openapi.json": map[string]any{"get": op("This document.", nil, "200", map[string]any{"type": "object"}, false)},
		"/api/v1/hosts": map[string]any{"get": op("Failing hosts under triage's filters, a page at a time.",
			[]any{query("code", "An HRESULT, such as 0x80070002."), query("group", "A WSUS group."), query("q", "Part of the host name."),
				query("sort", "name, group, os, kb, code or failed_at."), query("dir", "desc for descending."), cursorParam, limitParam},
			"200", obj(map[string]any{"hosts": list(ref("Host")), "total": integer(), "next_cursor": str()}), true)},
		"/api/v1/hosts/{name}": map[string]any{"get": op("One host, in any state.", []any{pathParam("name")}, "200", ref("Host"), true)},
		"/api/v1/hosts/{name}/history": map[string]any{"get": op("A host's update history, newest first.",
			[]any{pathParam("name"), cursorParam, limitParam}, "200",
			obj(map[string]any{"history": list(ref("HistoryEntry")), "total": integer(), "next_cursor": str()}), true)},
		"/api/v1/hosts/{name}/runs": map[string]any{"post": withForm(op("Start a run on the host (operators). 409 names the run already active.",
			[]any{pathParam("name")}, "201", ref("Run"), true), map[string]any{"procedure": enum("repair", "check", "history")})},
		"/api/v1/runs": map[string]any{"get": op("Runs under the runs list's filters, newest first.",
			[]any{query("host", "Part of the host name."), query("state", "queued, running, succeeded, failed, cancelled or interrupted."),
				query("who", "Who started it."), query("from", "YYYY-MM-DD."), query("to", "YYYY-MM-DD, inclusive."),
				query("code", "Repairs of hosts failing with this HRESULT."), cursorParam, limitParam},
			"200", obj(map[string]any{"runs": list(ref("Run")), "total": integer(), "next_cursor": str()}), true)},
		"/api/v1/runs/{id}": map[string]any{"get": op("One run and its steps.", []any{pathParam("id")}, "200",
			obj(map[string]any{"run": ref("Run"), "steps": list(obj(map[string]any{"name": str(), "state": str(), "duration": str(), "detail": str()}))}), true)},
		"/api/v1/runs/{id}/events": map[string]any{"get": op("A run's log as JSON, after an event number.",
			[]any{pathParam("id"), query("after", "The last event number already read.")}, "200",
			obj(map[string]any{"events": list(ref("Event")), "active": boolean()}), true)},
		"/api/v1/runs/{id}/stream": map[string]any{"get": map[string]any{"summary": "The run's log as Server-Sent Events (the run page's stream), resuming after Last-Event-ID.",
			"parameters": []any{pathParam("id")},
			"responses":  map[string]any{"200": map[string]any{"description": "text/event-stream", "content": map[string]any{"text/event-stream": map[string]any{}}}}}},
		"/api/v1/runs/{id}/cancel": map[string]any{"post": op("Cancel a run (operators): its host's services are restored. "+
			"The answer is the run after the cancel; cancelling is true while a running run is being stopped.",
			[]any{pathParam("id")}, "202", map[string]any{"allOf": []any{ref("Run"), obj(map[string]any{"cancelling": boolean()})}}, true)},
		"/api/v1/batches": map[string]any{
			"get": op("Bulk runs, newest first, with their progress and outcomes.", []any{cursorParam, limitParam}, "200",
				obj(map[string]any{"batches": list(ref("Batch")), "total": integer(), "next_cursor": str()}), true),
			"post": withForm(op("Start a bulk run (operators) on the hosts named, or on the failing hosts triage's filters select (code, group, q).",
				nil, "201", ref("Batch"), true), map[string]any{"procedure": enum("repair", "check"), "host": list(str()),
				"code": str(), "group": str(), "q": str()}),
		},
		"/api/v1/batches/{id}": map[string]any{"get": op("One batch: counts by state, an estimate of its end, its runs and each active one's step.",
			[]any{pathParam("id")}, "200", obj(map[string]any{"batch": ref("Batch"), "states": map[string]any{"type": "object"},
				"eta": dateTime(), "runs": list(obj(map[string]any{"run": ref("Run"), "step": str()}))}), true)},
		"/api/v1/reports/{list}": map[string]any{"get": op("One list of the report (compliance, activity or codes) under the reports page's filters.",
			[]any{map[string]any{"name": "list", "in": "path", "required": true, "schema": enum("compliance", "activity", "codes")},
				query("group", "A WSUS group."), query("code", "An HRESULT."), query("from", "YYYY-MM-DD."), query("to", "YYYY-MM-DD, inclusive."),
				query("stale", "Days of silence after which a host is stale (default 30).")},
			"200", list(map[string]any{"type": "object"}), true)},
		"/api/v1/sync": map[string]any{
			"get": op("The WSUS sync (admins): the server, the schedule, the sync running now and the last syncs.", nil, "200",
				map[string]any{"type": "object"}, true),
			"post": withForm(op("Sync now (admins); 409 while a sync runs.", nil, "202",
				obj(map[string]any{"id": integer(), "page": str()}), true), map[string]any{"full": enum("1")}),
		},
	},
}

func str() map[string]any      { return map[string]any{"type": "string"} }
func integer() map[string]any  { return map[string]any{"type": "integer"} }
func boolean() map[string]any  { return map[string]any{"type": "boolean"} }
func dateTime() map[string]any { return map[string]any{"type": "string", "format": "date-time"} }
func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}
func list(items map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": items}
}
func obj(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props}
}
func enum(vals ...string) map[string]any { return map[string]any{"type": "string", "enum": vals} }
func query(name, desc string) map[string]any {
	return map[string]any{"name": name, "in": "query", "description": desc, "schema": str()}
}
func pathParam(name string) map[string]any {
	return map[string]any{"name": name, "in": "path", "required": true, "schema": str()}
}

var (
	cursorParam = query("cursor", "The next_cursor of the page before; opaque.")
	limitParam  = map[string]any{"name": "limit", "in": "query", "description": "Rows a page, 1 to 1000 (default 100).",
		"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": apiMaxLimit}}
)

// op describes one operation answering schema with status, and the
// problem documents it may answer instead.
func op(summary string, params []any, status string, schema map[string]any, problems bool) map[string]any {
	o := map[string]any{"summary": summary, "responses": map[string]any{
		status: map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": schema}}}}}
	if params != nil {
		o["parameters"] = params
	}
	if problems {
		p := map[string]any{"description": "A problem document.",
			"content": map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}}}
		for _, code := range []string{"400", "401", "403", "404", "409", "503"} {
			o["responses"].(map[string]any)[code] = p
		}
	}
	return o
}

// withForm adds a URL-encoded form body to an operation.
func withForm(o map[string]any, fields map[string]any) map[string]any {
	o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
		"application/x-www-form-urlencoded": map[string]any{"schema": obj(fields)}}}
	return o
}

// handleOpenAPI answers GET /api/v1/openapi.json, open to anyone: it says
// what the API is, not what the estate holds.
func (h *handler) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, openAPI)
}
