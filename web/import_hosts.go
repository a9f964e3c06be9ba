package main

import (
	"context"
	"fmt"
	"strings"

	"wsusfix/store"
)

// hostSink imports the hosts file.
type hostSink struct {
	st                           *store.Store
	name, fqdn, addr, os, build  int
	group, lastReport            int
	queue                        []store.HostInput
	seen                         map[string]seenHost // by lower-case name: in-file duplicates
	inserted, updated, duplicate int
}

type seenHost struct {
	line int
	host store.HostInput
}

func (h *hostSink) header(cols []string) error {
	idx, err := columnIndex(cols, []string{"name", "fqdn", "address", "os", "os_build", "group", "last_report"}, nil)
	if err != nil {
		return err
	}
	h.name, h.fqdn, h.addr, h.os = idx["name"], idx["fqdn"], idx["address"], idx["os"]
	h.build, h.group, h.lastReport = idx["os_build"], idx["group"], idx["last_report"]
	return nil
}

func (h *hostSink) add(rec []string, line int) error {
	in := store.HostInput{
		Name:      field(rec, h.name),
		FQDN:      field(rec, h.fqdn),
		OSCaption: field(rec, h.os),
		OSBuild:   field(rec, h.build),
		Group:     field(rec, h.group),
	}
	if err := checkHostName(in.Name); err != nil {
		return fmt.Errorf("name %q: %w", in.Name, err)
	}
	if in.FQDN != "" {
		if err := checkHostName(in.FQDN); err != nil {
			return fmt.Errorf("fqdn %q: %w", in.FQDN, err)
		}
	}
	addr, err := parseAddress(field(rec, h.addr))
	if err != nil {
		return fmt.Errorf("address %q: %w", field(rec, h.addr), err)
	}
	in.Address = addr
	if !isBuild(in.OSBuild) {
		return fmt.Errorf("os_build %q: want digits and dots, such as 10.0.26100.2894", in.OSBuild)
	}
	if v := field(rec, h.lastReport); v != "" {
		if in.LastReportAt, err = parseTime(v); err != nil {
			return fmt.Errorf("last_report %q: %w", v, err)
		}
	}
	key := strings.ToLower(in.Name)
	if prev, ok := h.seen[key]; ok {
		if !sameHost(prev.host, in) {
			return fmt.Errorf("host %s already given at line %d with different values", in.Name, prev.line)
		}
		h.duplicate++
		return nil
	}
	h.seen[key] = seenHost{line, in}
	h.queue = append(h.queue, in)
	return nil
}

// sameHost reports whether two rows describe a host identically.
func sameHost(a, b store.HostInput) bool {
	return strings.EqualFold(a.Name, b.Name) && a.FQDN == b.FQDN && a.Address == b.Address &&
		a.OSCaption == b.OSCaption && a.OSBuild == b.OSBuild && a.Group == b.Group &&
		a.LastReportAt.Equal(b.LastReportAt)
}

func (h *hostSink) pending() int { return len(h.queue) }

func (h *hostSink) done(context.Context) error { return nil }

func (h *hostSink) flush(ctx context.Context, _ *report) error {
	if len(h.queue) == 0 {
		return nil
	}
	c, err := h.st.UpsertHosts(ctx, h.queue)
	if err != nil {
		return err
	}
	h.inserted += c.Inserted
	h.updated += c.Updated
	h.duplicate += c.Unchanged
	h.queue = h.queue[:0]
	return nil
}

func (h *hostSink) summary() string {
	return fmt.Sprintf("imported %d, updated %d, duplicate %d", h.inserted, h.updated, h.duplicate)
}
