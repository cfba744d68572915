//! End-to-end checks of `maxmemory` key eviction: filling past the limit evicts keys under
//! allkeys-lru (counted in INFO, recently used keys surviving), never under noeviction (writes
//! fail with -OOM instead), and volatile policies only touch keys with a TTL.

mod common;

use common::{status, Reply, Server};

/// A field of INFO as an integer.
fn info_field(c: &mut common::Client, field: &str) -> i64 {
    let text = c.cmd(&["info", "all"]).bulk_str();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .trim()
        .parse()
        .unwrap()
}

fn dbsize(c: &mut common::Client) -> i64 {
    match c.cmd(&["dbsize"]) {
        Reply::Int(n) => n,
        other => panic!("dbsize: {other:?}"),
    }
}

/// Set `maxmemory` to what is used now plus `extra` bytes.
fn limit_above_current(c: &mut common::Client, extra: i64) -> i64 {
    let limit = info_field(c, "used_memory") + extra;
    assert_eq!(
        c.cmd(&["config", "set", "maxmemory", &limit.to_string()]),
        status("OK")
    );
    limit
}

#[test]
fn allkeys_lru_evicts_to_stay_under_the_limit() {
    let s = Server::start(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = s.client();
    let value = "v".repeat(1000);
    for i in 0..300 {
        assert_eq!(c.cmd(&["set", &format!("old:{i}"), &value]), status("OK"));
    }
    assert_eq!(c.cmd(&["set", "hot", &value]), status("OK"));
    // The LRU clock ticks in seconds: let the old keys age, then use "hot" again.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(
        c.cmd(&["get", "hot"]),
        Reply::Bulk(Some(value.clone().into_bytes()))
    );
    let limit = limit_above_current(&mut c, 100 * 1024);
    for i in 0..150 {
        assert_eq!(c.cmd(&["set", &format!("new:{i}"), &value]), status("OK"));
    }
    let evicted = info_field(&mut c, "evicted_keys");
    assert!(evicted > 0, "nothing evicted");
    assert_eq!(dbsize(&mut c), 451 - evicted);
    assert!(info_field(&mut c, "used_memory") < limit + 16 * 1024);
    // Only idle keys went: the recently used one and the new ones stayed.
    assert_eq!(c.cmd(&["exists", "hot"]), Reply::Int(1));
    for i in 0..150 {
        assert_eq!(c.cmd(&["exists", &format!("new:{i}")]), Reply::Int(1));
    }
    assert_eq!(info_field(&mut c, "maxmemory"), limit);
    let memory = c.cmd(&["info", "memory"]).bulk_str();
    assert!(memory.contains("maxmemory_policy:allkeys-lru"));
    assert!(memory.contains("mem_not_counted_for_evict:0"));
}

#[test]
fn noeviction_refuses_writes_and_keeps_keys() {
    let s = Server::start(&["--maxmemory-policy", "noeviction"]);
    let mut c = s.client();
    limit_above_current(&mut c, 100 * 1024);
    let value = "v".repeat(1000);
    let mut written = 0;
    let mut oom = false;
    for i in 0..1000 {
        match c.cmd(&["set", &format!("key:{i}"), &value]) {
            Reply::Status(_) => written += 1,
            Reply::Error(e) => {
                assert_eq!(e, "OOM command not allowed when used memory > 'maxmemory'.");
                oom = true;
                break;
            }
            other => panic!("set: {other:?}"),
        }
    }
    assert!(oom, "never hit the limit");
    assert_eq!(info_field(&mut c, "evicted_keys"), 0);
    assert_eq!(dbsize(&mut c), written);
    // Reads and deletions still work.
    assert_eq!(c.cmd(&["exists", "key:0"]), Reply::Int(1));
    assert_eq!(c.cmd(&["del", "key:0"]), Reply::Int(1));
}

#[test]
fn volatile_policy_only_evicts_keys_with_a_ttl() {
    let s = Server::start(&["--maxmemory-policy", "volatile-lru"]);
    let mut c = s.client();
    let value = "v".repeat(1000);
    for i in 0..20 {
        c.cmd(&["set", &format!("keep:{i}"), &value]);
    }
    limit_above_current(&mut c, 100 * 1024);
    for i in 0..500 {
        c.cmd(&["setex", &format!("tmp:{i}"), "1000", &value]);
    }
    assert!(info_field(&mut c, "evicted_keys") > 0);
    for i in 0..20 {
        assert_eq!(c.cmd(&["exists", &format!("keep:{i}")]), Reply::Int(1));
    }
}

#[test]
fn lowering_maxmemory_evicts_everything() {
    let s = Server::start(&["--maxmemory-policy", "allkeys-random"]);
    let mut c = s.client();
    let value = "v".repeat(1000);
    for i in 0..500 {
        c.cmd(&["set", &format!("key:{i}"), &value]);
    }
    assert_eq!(c.cmd(&["config", "set", "maxmemory", "1"]), status("OK"));
    // The eviction timer (and each command) empty the dataset, within the tenacity limit
    // per step: wait for it rather than for a fixed time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while dbsize(&mut c) != 0 {
        assert!(std::time::Instant::now() < deadline, "keys left after 20 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(info_field(&mut c, "evicted_keys"), 500);
}
