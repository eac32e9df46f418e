// How often the machine takes a CPU away from a process that never sleeps
// (interrupts, the hypervisor, kernel threads): the floor under every tail
// latency measured here. One process per CPU spins reading the clock; every
// gap between two reads longer than a microsecond is an interruption.
#pragma once

namespace shmq::bench {

struct NoiseFloor {
    double interruptions_per_second = 0;  // per CPU, averaged over the CPUs
    double lost_percent = 0;              // share of each CPU's time taken away, averaged
    double median_interruption_us = 0;    // over all CPUs' interruptions
};

NoiseFloor measure_noise_floor(double seconds);

}  // namespace shmq::bench
