package environ

import "testing"

func TestGet(t *testing.T) {
	env := []string{"A=1", "B=x=y", "A=2", "EMPTY=", "NOEQUALS"}
	for _, tt := range []struct {
		key, want string
		ok        bool
	}{{"A", "2", true}, {"B", "x=y", true}, {"EMPTY", "", true}, {"NONE", "", false}, {"NOEQUALS", "", false}} {
		if got, ok := Get(env, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}
