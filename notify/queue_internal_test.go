package notify

import (
	"testing"
	"time"
)

func TestNextPause(t *testing.T) {
	tests := []struct {
		pause, base, want time.Duration
	}{
		{2 * time.Second, 2 * time.Second, 4 * time.Second},
		{16 * time.Second, 2 * time.Second, 32 * time.Second},
		{32 * time.Second, 2 * time.Second, time.Minute},
		{time.Minute, 2 * time.Second, time.Minute},
		{10 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond},
		{90 * time.Second, 90 * time.Second, 90 * time.Second},
	}
	for _, tt := range tests {
		if got := nextPause(tt.pause, tt.base); got != tt.want {
			t.Errorf("nextPause(%v, %v) = %v, want %v", tt.pause, tt.base, got, tt.want)
		}
	}
}
