//! Process memory and CPU from `/proc/self` (Linux; elsewhere they stay 0).

/// Clock ticks per second of `/proc/<pid>/stat`: 100 on every Linux the node targets
/// (USER_HZ is fixed at 100 in the kernel's user ABI).
const TICKS_PER_SECOND: f64 = 100.0;
/// Page size for `/proc/self/statm` (4 KiB on x86-64 and most arm64 kernels).
const PAGE_BYTES: u64 = 4096;

/// Reads the process's resident memory and CPU time into the metrics.
pub fn sample() {
    let m = crate::get();
    if let Some(bytes) = resident_bytes() {
        m.process_resident_memory_bytes
            .set(crate::saturating_i64(bytes));
    }
    if let Some(seconds) = cpu_seconds() {
        m.process_cpu_seconds.set(seconds);
    }
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    pages.checked_mul(PAGE_BYTES)
}

fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu_ticks(&stat).map(|ticks| ticks as f64 / TICKS_PER_SECOND)
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line. The command name (field 2)
/// may hold spaces, so fields are counted after its closing parenthesis.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    utime.checked_add(stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_utime_plus_stime_after_the_command_name() {
        let stat = "42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0 100 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(12));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn this_process_has_resident_memory() {
        assert!(resident_bytes().is_some_and(|b| b > 0));
    }
}
