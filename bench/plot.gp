# Draws the benchmark's plots from the data files shmq_bench writes.
# Usage: gnuplot -e "dir='bench/results'" bench/plot.gp
#   dir/round_trip_latency.png   latency distribution of the ping-pong runs
#   dir/throughput.png           one-way throughput by payload size
#   dir/zero_copy_round_trip.png round-trip p50 by payload size, zero-copy and copying
if (!exists("dir")) dir = "."

# pngcairo draws anti-aliased; gnuplot-nox builds may only have libgd's png.
# noenhanced: transport names hold underscores, not subscripts.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1600,900 font ",10" noenhanced
} else {
    set terminal png size 1600,900 noenhanced
}
set grid
set logscale xy
set key below maxrows 5
# Up to 16 series per plot: 16 distinguishable colours, the later half dashed.
array colour[16] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", \
                    "#bcbd22", "#17becf", "#000000", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5"]
do for [i=1:16] {
    set linetype i linecolor rgb colour[i] linewidth 2 pointtype i dashtype solid
    if (i > 8) { set linetype i dashtype 2 }
}
# Each data block (one transport and mode) begins with its title line.

set output dir."/round_trip_latency.png"
set multiplot layout 1,2 title "Round-trip latency distribution (ping-pong between two processes on two CPUs; run with the median p50)"
set xlabel "percentile"
set ylabel "round trip (µs)"
# x is 1/(1 - p): every decade is one more nine.
set xtics ("50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set title "64 B"
plot for [i=0:*] dir."/latency_64.dat" index i using 1:2 with lines linetype i + 1 title columnheader(1)
set title "4 KiB"
plot for [i=0:*] dir."/latency_4096.dat" index i using 1:2 with lines linetype i + 1 title columnheader(1)
unset multiplot

set output dir."/throughput.png"
set multiplot layout 1,2 title "One-way throughput by payload size (one producer, one consumer; medians)"
set xlabel "payload"
set xtics ("64 B" 64, "4 KiB" 4096, "1 MiB" 1048576)
set xrange [40:1.6e6]
set title "messages per second"
set ylabel "msg/s"
plot for [i=0:*] dir."/throughput.dat" index i using 1:2 with linespoints linetype i + 1 title columnheader(1)
set title "bytes per second"
set ylabel "MB/s"
plot for [i=0:*] dir."/throughput.dat" index i using 1:3 with linespoints linetype i + 1 title columnheader(1)
unset multiplot

set output dir."/zero_copy_round_trip.png"
set title "Round trip p50 by message size: zero-copy (+zero_copy) against copying transports (medians)"
set xlabel "payload"
set ylabel "round trip p50 (µs)"
set xtics ("64 B" 64, "4 KiB" 4096, "1 MiB" 1048576, "4 MiB" 4194304)
set xrange [40:6.5e6]
plot for [i=0:*] dir."/zero_copy.dat" index i using 1:2 with linespoints linetype i + 1 title columnheader(1)
