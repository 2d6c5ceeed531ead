package caddymodule

import (
	"reflect"
	"unsafe"
)

// fieldOf reads the unexported field name of the struct p points to, when
// that field has exactly type T. The start-time checks need what Caddy
// keeps unexported once a config is loaded: the Context's config (its
// logging app's logs), each log's encoder and writer, and a server's
// trusted proxies source; Caddy clears the raw JSON of each as it loads
// them, so there is nothing else to read. It is false when Caddy's layout is not the one expected (a
// field renamed or retyped in another Caddy version): the caller then
// says it could not check, never that all is well.
// TestFieldOfReadsCaddysLayout fails when that happens.
func fieldOf[T any](p any, name string) (T, bool) {
	var zero T
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return zero, false
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || f.Type() != reflect.TypeFor[T]() {
		return zero, false
	}
	return *(*T)(unsafe.Pointer(f.UnsafeAddr())), true
}
