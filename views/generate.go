// Package views holds wsusfix's templ components: pure presentation over
// plain records and view models. It performs no I/O and decides nothing;
// handlers pass in everything a page shows, already decoded.
package views

//go:generate go tool templ generate
