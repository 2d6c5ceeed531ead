package events_test

// The vendors the tests deliver for register themselves on import.
import _ "github.com/hookgate/caddy-hookgate/vendors/all"
