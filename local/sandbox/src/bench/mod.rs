//! `steward-local bench`: figures, not tests. [`emulator`] measures the WorkSpaces Core
//! emulator's DescribeWorkspaces throughput; [`sweep`] measures Steward's idle sweep over
//! many tenants with the service's rate limit on; [`pools`] measures the handler CPU of a
//! pool's assignment requests and the calls of a pool's growths. The process measures both report (peak
//! RSS, CPU seconds) are read from `/proc` here.

pub mod emulator;
pub mod pools;
mod pools_drive;
pub mod sweep;

/// Peak resident set size (VmHWM) of this process, in bytes.
pub fn peak_rss_bytes() -> u64 {
    rss_of("/proc/self/status")
}

/// VmHWM of the process whose `status` file this is.
pub fn rss_of(status: &str) -> u64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// CPU seconds (user + system, every thread, live or ended) of the process whose `stat`
/// file this is; 0 when it cannot be read.
pub fn cpu_seconds_of(stat: &str) -> f64 {
    let ticks_per_second = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0);
    std::fs::read_to_string(stat)
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
            Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
        })
        .map_or(0.0, |t| t / ticks_per_second)
}
