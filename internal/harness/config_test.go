package harness

import (
	"testing"
	"time"
)

func TestEnvironmentQuoting(t *testing.T) {
	tests := []struct {
		in      []string
		want    string
		wantErr bool
	}{
		{[]string{"A=b"}, `A="b"`, false},
		{[]string{"A=x,y", "B="}, `A="x,y",B=""`, false},
		{[]string{`A=say "hi" now`}, `A='say "hi" now'`, false},
		{[]string{"A=100%"}, `A="100%%"`, false},
		{[]string{"A=1", "B=2", "A=3"}, `A="3",B="2"`, false},
		{[]string{`A=it's "x"`}, "", true},
		{[]string{"A=line\nbreak"}, "", true},
		{[]string{`A="quoted"`}, "", true},
		{[]string{"NOEQUALS"}, "", true},
		{[]string{"BAD-KEY=1"}, "", true},
	}
	for _, tt := range tests {
		got, err := environment(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("environment(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestMaxStopWait(t *testing.T) {
	tests := []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{}, 10 * time.Second},
		{Config{Programs: []Program{{Extra: []string{"stopwaitsecs=3"}}}}, 10 * time.Second},
		{Config{Programs: []Program{{Extra: []string{"autorestart=false", "stopwaitsecs = 12"}}}}, 12 * time.Second},
		{Config{Listeners: []Listener{{Extra: []string{"stopwaitsecs=30"}}}}, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := tt.cfg.MaxStopWait(); got != tt.want {
			t.Errorf("MaxStopWait(%+v) = %v, want %v", tt.cfg, got, tt.want)
		}
	}
}
