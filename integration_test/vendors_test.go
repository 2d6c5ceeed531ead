package integration_test

// The test process signs deliveries for the shipped vendors: they register
// themselves on import.
import _ "github.com/hookgate/caddy-hookgate/vendors/all"
