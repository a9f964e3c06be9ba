package views

// Internal helpers exported to the black-box tests of package views_test.
var (
	StateClass      = stateClass
	ResultClass     = resultClass
	StateLabel      = stateLabel
	OutcomeClass    = outcomeClass
	RepairHref      = repairHref
	HistoryPageHref = historyPageHref
	UserAction      = userAction
)

// AriaSort exposes TriageQuery.ariaSort to the black-box tests.
func (q TriageQuery) AriaSort(key string) string { return q.ariaSort(key) }
