//! Micro-benchmarks of the server's hot paths, with a plain harness (`harness = false`): each
//! case runs its loop until it has taken about `--time` ms (default 300), in 5 samples, and
//! prints the median and the best sample in ns per operation. No external crates; the global
//! allocator is the library's (jemalloc behind the counting wrapper), as in the server.
//!
//! ```sh
//! cargo bench --bench micro              # every case
//! cargo bench --bench micro -- dict lp   # cases whose name contains "dict" or "lp"
//! cargo bench --bench micro -- --time 1000
//! ```
//!
//! Run without `--bench` (what `cargo test --benches` or `--all-targets` does), every case runs
//! with a 5 ms budget as a smoke test, so it stays quick there.
//!
//! Cases: the RESP request parser (`resp::parse::parse_command`), command-table lookup
//! (`CommandTable::get` / `lookup`), the whole in-process dispatch path
//! (`Server::process_input`: parse, lookup, checks, execution, reply) for SET and GET, the
//! keyspace dict (`db::dict::Dict<Sds, RObj>` insert / hit / miss, `Db::set`) and listpack
//! push / iterate / index (`types::listpack::Listpack`).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use redust::client::Client;
use redust::command::table::{CommandTable, Lookup};
use redust::config::Config;
use redust::db::dict::Dict;
use redust::db::{Db, Sds};
use redust::resp::parse::{parse_command, ParseLimits, ParseState, Parsed};
use redust::server::Server;
use redust::types::listpack::{Listpack, LpValue, INT_BUF_SIZE};
use redust::types::object::{RObj, RString};

/// Command-line options: name filters and the time budget per sample.
struct Opts {
    filters: Vec<String>,
    sample: Duration,
}

impl Opts {
    fn parse() -> Opts {
        let mut filters = Vec::new();
        let mut ms = 300u64;
        let mut bench_mode = false;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                // cargo bench passes --bench to harness=false targets; cargo test does not.
                "--bench" => bench_mode = true,
                "--time" => {
                    ms = args
                        .next()
                        .and_then(|v| v.parse().ok())
                        .expect("--time takes milliseconds");
                }
                s if s.starts_with("--") => {}
                s => filters.push(s.to_string()),
            }
        }
        if !bench_mode {
            ms = 5;
        }
        Opts {
            filters,
            sample: Duration::from_millis(ms) / 5,
        }
    }

    fn wants(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str()))
    }
}

/// Times `f`, which performs `ops` operations per call. A warm-up (doubling the number of
/// calls until a batch takes a fifth of a sample) sizes the batches, then 5 samples of about
/// `opts.sample` each; prints median and best ns/op.
fn bench(opts: &Opts, name: &str, ops: u64, mut f: impl FnMut()) {
    if !opts.wants(name) {
        return;
    }
    let mut calls = 1u64;
    let per_call = loop {
        let t = Instant::now();
        for _ in 0..calls {
            f();
        }
        let e = t.elapsed();
        if e >= opts.sample / 5 || calls >= 1 << 24 {
            break e.as_nanos().max(1) / calls as u128;
        }
        calls *= 2;
    };
    let calls = (opts.sample.as_nanos() / per_call.max(1)).clamp(1, 1 << 24) as u64;
    let mut per_op: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            t.elapsed().as_nanos() as f64 / (calls * ops) as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    println!(
        "{name:<40} {:>10.1} ns/op   (best {:.1}, {} ops/sample)",
        per_op[2],
        per_op[0],
        calls * ops
    );
}

/// RESP multibulk encoding of one command.
fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

const LIMITS: ParseLimits = ParseLimits {
    max_bulk_len: 512 * 1024 * 1024,
    unauthenticated: false,
    is_master: false,
};

/// Parses every command of `template` (which holds `n` of them); the copy into the query
/// buffer is part of the timed loop, as a socket read is part of the server's.
fn bench_parse(opts: &Opts, name: &str, template: &[u8], n: u64) {
    let mut buf = BytesMut::with_capacity(template.len());
    let mut state = ParseState::default();
    let mut argv: Vec<Bytes> = Vec::with_capacity(32);
    bench(opts, name, n, || {
        buf.extend_from_slice(template);
        let mut parsed = 0;
        while let Ok(Parsed::Command) = parse_command(&mut buf, &mut state, &mut argv, &LIMITS) {
            black_box(&argv);
            argv.clear();
            parsed += 1;
        }
        assert_eq!(parsed, n);
    });
}

fn resp_cases(opts: &Opts) {
    const N: u64 = 1000;
    let set = resp(&[b"SET", b"key:000000012345", b"xxx"]);
    bench_parse(
        opts,
        "resp/parse SET key val (multibulk)",
        &set.repeat(N as usize),
        N,
    );
    let get = resp(&[b"GET", b"key:000000012345"]);
    bench_parse(
        opts,
        "resp/parse GET key (multibulk)",
        &get.repeat(N as usize),
        N,
    );
    let mut mset: Vec<&[u8]> = vec![b"MSET"];
    for _ in 0..10 {
        mset.extend_from_slice(&[b"key:000000012345", b"xxx"]);
    }
    let mset = resp(&mset);
    bench_parse(
        opts,
        "resp/parse MSET 10 keys (multibulk)",
        &mset.repeat(N as usize),
        N,
    );
    bench_parse(
        opts,
        "resp/parse PING (inline)",
        &b"PING\r\n".repeat(N as usize),
        N,
    );
}

fn table_cases(opts: &Opts) {
    let table = CommandTable::build(redust::commands::ALL);
    bench(opts, "table/get lower-case \"get\"", 1, || {
        black_box(table.get(black_box(b"get")));
    });
    bench(opts, "table/get upper-case \"ZRANGEBYSCORE\"", 1, || {
        black_box(table.get(black_box(b"ZRANGEBYSCORE")));
    });
    let argv = vec![Bytes::from_static(b"CONFIG"), Bytes::from_static(b"GET")];
    bench(opts, "table/lookup subcommand CONFIG GET", 1, || {
        black_box(matches!(table.lookup(black_box(&argv)), Lookup::Found(_)));
    });
}

/// Whole dispatch, in process: a client with `n` pipelined commands in its query buffer,
/// `Server::process_input`, then the reply buffer is dropped.
fn bench_dispatch(opts: &Opts, srv: &mut Server, name: &str, template: &[u8], n: u64) {
    let mut c = Client::new(1, None, String::new(), String::new(), srv.now_ms);
    c.authenticated = true;
    bench(opts, name, n, || {
        c.querybuf.extend_from_slice(template);
        srv.process_input(&mut c);
        assert!(c.querybuf.is_empty(), "a command was not processed");
        black_box(&c.reply.buf);
        c.reply.buf.clear();
        c.reply.sent = 0;
    });
}

fn dispatch_cases(opts: &Opts) {
    if !["dispatch/SET", "dispatch/GET", "dispatch/INCR"]
        .iter()
        .any(|n| opts.wants(n))
    {
        return;
    }
    let mut srv =
        Server::new(Config::default(), None, "redust-server".to_string()).expect("server");
    const N: u64 = 1000;
    let mut sets = Vec::new();
    let mut gets = Vec::new();
    for i in 0..N {
        let key = format!("key:{:012}", i * 97 % 100_000);
        sets.extend_from_slice(&resp(&[b"SET", key.as_bytes(), b"xxx"]));
        gets.extend_from_slice(&resp(&[b"GET", key.as_bytes()]));
    }
    bench_dispatch(opts, &mut srv, "dispatch/SET (parse+exec+reply)", &sets, N);
    bench_dispatch(opts, &mut srv, "dispatch/GET (parse+exec+reply)", &gets, N);
    let incr = resp(&[b"INCR", b"counter"]).repeat(N as usize);
    bench_dispatch(opts, &mut srv, "dispatch/INCR (parse+exec+reply)", &incr, N);
}

fn keys(n: usize) -> Vec<Sds> {
    (0..n)
        .map(|i| format!("key:{i:012}").into_bytes().into())
        .collect()
}

fn obj() -> RObj {
    RObj::string(RString::from_bytes(b"v000000001"), 0)
}

fn dict_cases(opts: &Opts) {
    const N: usize = 100_000;
    let ks = keys(N);
    bench(
        opts,
        "dict/insert 100k new keys (from empty)",
        N as u64,
        || {
            let mut d: Dict<Sds, RObj> = Dict::new();
            for k in &ks {
                d.insert(k.clone(), obj());
            }
            black_box(d.len());
        },
    );
    // Reference point: the standard library's SipHash table with the same keys and values.
    bench(
        opts,
        "dict/std HashMap insert 100k (reference)",
        N as u64,
        || {
            let mut d: HashMap<Sds, RObj> = HashMap::new();
            for k in &ks {
                d.insert(k.clone(), obj());
            }
            black_box(d.len());
        },
    );
    let mut d: Dict<Sds, RObj> = Dict::new();
    for k in &ks {
        d.insert(k.clone(), obj());
    }
    while d.rehash_steps(1000) {}
    let std_map: HashMap<Sds, RObj> = ks.iter().map(|k| (k.clone(), obj())).collect();
    bench(
        opts,
        "dict/std HashMap get hit 100k (reference)",
        N as u64,
        || {
            for k in &ks {
                black_box(std_map.get(&k[..]));
            }
        },
    );
    bench(opts, "dict/get hit (100k keys)", N as u64, || {
        for k in &ks {
            black_box(d.get(&k[..]));
        }
    });
    let misses = (0..N)
        .map(|i| format!("nokey:{i:012}").into_bytes())
        .collect::<Vec<_>>();
    bench(opts, "dict/get miss (100k keys)", N as u64, || {
        for k in &misses {
            black_box(d.get(&k[..]));
        }
    });
    let mut db = Db::new(0);
    for k in &ks {
        db.add(k, obj());
    }
    bench(opts, "dict/Db::set overwrite (100k keys)", N as u64, || {
        for k in &ks {
            black_box(db.set(k, obj(), false));
        }
    });
}

fn listpack_cases(opts: &Opts) {
    let strs: Vec<Vec<u8>> = (0..128).map(|i| format!("elem-{i}").into_bytes()).collect();
    bench(opts, "lp/append 128 short strings", 128, || {
        let mut lp = Listpack::new();
        for s in &strs {
            lp.append(s);
        }
        black_box(lp.len());
    });
    bench(opts, "lp/prepend 128 short strings", 128, || {
        let mut lp = Listpack::new();
        for s in &strs {
            lp.prepend(s);
        }
        black_box(lp.len());
    });
    bench(opts, "lp/append 128 integers", 128, || {
        let mut lp = Listpack::new();
        for i in 0..128i64 {
            lp.append(i * 1000);
        }
        black_box(lp.len());
    });
    let mut lp = Listpack::new();
    for (i, s) in strs.iter().enumerate() {
        if i % 2 == 0 {
            lp.append(s);
        } else {
            lp.append(i as i64);
        }
    }
    bench(opts, "lp/iterate 128 entries (as bytes)", 128, || {
        let mut buf = [0u8; INT_BUF_SIZE];
        let mut total = 0usize;
        for v in lp.iter() {
            total += v.as_bytes(&mut buf).len();
        }
        black_box(total);
    });
    bench(opts, "lp/iterate 128 entries reversed", 128, || {
        let mut total = 0usize;
        for v in lp.iter_rev() {
            total += match v {
                LpValue::Int(_) => 1,
                LpValue::Str(s) => s.len(),
            };
        }
        black_box(total);
    });
    bench(opts, "lp/get_index middle (64 of 128)", 1, || {
        black_box(lp.get_index(black_box(64)).map(|v| v.str_len()));
    });
}

fn main() {
    let opts = Opts::parse();
    println!(
        "redust micro-benchmarks: median of 5 samples of {:?} each (best in parentheses)",
        opts.sample
    );
    // Sizes behind the per-key memory figures of benches/vs-redis.
    println!(
        "size_of: RObj {} B, Value {} B, RString {} B, Sds {} B",
        std::mem::size_of::<RObj>(),
        std::mem::size_of::<redust::types::object::Value>(),
        std::mem::size_of::<RString>(),
        std::mem::size_of::<Sds>()
    );
    resp_cases(&opts);
    table_cases(&opts);
    dispatch_cases(&opts);
    dict_cases(&opts);
    listpack_cases(&opts);
}
