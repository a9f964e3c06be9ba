package handlers

import (
	"strconv"
	"testing"
)

// TestPageCache_FullOfCurrentPages ensures a cache full of current pages
// makes room for one more by dropping one, not all: one user paging far
// must not throw out the pages everyone else shares.
func TestPageCache_FullOfCurrentPages(t *testing.T) {
	t.Parallel()
	var c pageCache
	for i := range maxCachedPages {
		c.put("page-"+strconv.Itoa(i), cachedPage{gen: 7})
	}
	c.put("one more", cachedPage{gen: 7})
	if len(c.pages) != maxCachedPages {
		t.Errorf("%d pages, want the bound %d", len(c.pages), maxCachedPages)
	}
	if _, ok := c.get("one more", 7); !ok {
		t.Error("the new page was not kept")
	}
	c.put("newer", cachedPage{gen: 8}) // every other page is now out of date
	if len(c.pages) != 1 {
		t.Errorf("%d pages after a change, want the current one alone", len(c.pages))
	}
}
