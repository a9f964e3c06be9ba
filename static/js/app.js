// Scripts for wsusfix pages. No inline scripts anywhere, so a strict CSP holds.
