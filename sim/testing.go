package sim

import "testing"

// StartTest starts a simulator over f for a test, listening on a loopback
// port of its own, and closes it when the test ends. A failure to listen
// fails the test where it happens.
func StartTest(tb testing.TB, f *Fleet, opt Options) *Server {
	tb.Helper()
	s := NewServer(f, opt)
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("sim: start: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
