package procinfo

import (
	"context"
	"fmt"

	"github.com/shirou/gopsutil/v4/mem"
)

// MemTotal returns the machine's memory in bytes (MemTotal of
// /proc/meminfo on Linux). In a container that is the host's memory, not
// the container's limit.
func MemTotal(ctx context.Context) (uint64, error) {
	v, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the memory size: %w", err)
	}
	if v.Total == 0 {
		return 0, fmt.Errorf("reading the memory size: the system reports 0 bytes")
	}
	return v.Total, nil
}
