package admin

import _ "github.com/hookgate/caddy-hookgate/vendors/all"
