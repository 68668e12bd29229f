package sandbox_test

import (
	"github.com/merchantbot/merchantbot/backend"
	"github.com/merchantbot/merchantbot/backend/sandbox"
	"github.com/merchantbot/merchantbot/dialogs"
)

// Both backends plug into the dialog: in-process for the console, the HTTP
// client for serve.
var (
	_ dialogs.Backend = (*sandbox.Sandbox)(nil)
	_ dialogs.Backend = (*backend.Client)(nil)
)
