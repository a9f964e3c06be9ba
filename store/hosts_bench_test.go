package store

import (
	"fmt"
	"testing"
)

// BenchmarkUpsertHosts_Moved measures an upsert in which every host moves
// OS, as the first sync after an import does when WSUS names the OS as
// "Microsoft Windows 11 Enterprise" where the inventory said "Windows
// 11": 20,000 hosts, a tenth of them with a finished repair run, so the
// repair summaries have something to move. Run:
//
//	go test -run '^$' -bench UpsertHosts_Moved -benchtime 3x ./store/
func BenchmarkUpsertHosts_Moved(b *testing.B) {
	const n = 20_000
	in := func(os string) []HostInput {
		hosts := make([]HostInput, n)
		for i := range hosts {
			hosts[i] = HostInput{Name: fmt.Sprintf("PC-%05d", i), Group: "Workstations", OSCaption: os}
		}
		return hosts
	}
	for b.Loop() {
		b.StopTimer()
		path := b.TempDir() + "/moved.db"
		if err := NewFile(path); err != nil {
			b.Fatal(err)
		}
		s, err := Open(b.Context(), path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.UpsertHosts(b.Context(), in("Windows 11")); err != nil {
			b.Fatal(err)
		}
		if _, err := s.write.ExecContext(b.Context(), `INSERT INTO runs (host_id, procedure, requested_by, state, outcome,
			created_at, started_at, finished_at) SELECT id, 'repair', 'bench', 'succeeded', 'repaired', 1, 2, 3
			FROM hosts WHERE id % 10 = 0`); err != nil {
			b.Fatal(err)
		}
		moved := in("Microsoft Windows 11 Enterprise")
		b.StartTimer()
		c, err := s.UpsertHosts(b.Context(), moved)
		b.StopTimer()
		if err != nil || c.Updated != n {
			b.Fatalf("%+v, %v", c, err)
		}
		s.Close()
		b.StartTimer()
	}
}
