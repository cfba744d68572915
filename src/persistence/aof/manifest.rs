//! The AOF manifest (Redis 7.0's aofManifest): which files make the AOF, in which order,
//! and how it is read from and written to `<appendfilename>.manifest`.

/// One file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofInfo {
    pub name: String,
    pub seq: i64,
    /// `b`ase, `i`ncr or `h`istory.
    pub kind: u8,
}

/// The manifest: which files make the AOF.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofInfo>,
    pub incr: Vec<AofInfo>,
    pub history: Vec<AofInfo>,
    pub curr_base_seq: i64,
    pub curr_incr_seq: i64,
    pub dirty: bool,
}

/// Why a manifest could not be parsed: the message and the offending line.
#[derive(Debug, PartialEq, Eq)]
pub struct ManifestError {
    pub msg: &'static str,
    pub line: Option<(usize, String)>,
}

impl Manifest {
    /// Parse a manifest file's text (aofLoadManifestFromFile).
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut maxseq = 0;
        let mut linenum = 0;
        let err = |msg, line: Option<(usize, String)>| ManifestError { msg, line };
        if text.is_empty() {
            return Err(err("Found an empty AOF manifest", None));
        }
        let mut rest = text;
        while !rest.is_empty() {
            let (raw, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => {
                    if rest.len() > 1024 {
                        return Err(err("The AOF manifest file contains too long line", None));
                    }
                    (rest, &rest[rest.len()..])
                }
            };
            rest = next;
            linenum += 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            if raw.len() > 1024 {
                return Err(err("The AOF manifest file contains too long line", None));
            }
            let line = String::from_utf8_lossy(raw)
                .trim_matches(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n')
                .to_string();
            let at = Some((linenum, line.clone()));
            if line.is_empty() {
                return Err(err("Invalid AOF manifest file format", at));
            }
            let argv = crate::config::parse::split_args(line.as_bytes())
                .map_err(|_| err("Invalid AOF manifest file format", at.clone()))?;
            if argv.len() < 6 || argv.len() % 2 != 0 {
                return Err(err("Invalid AOF manifest file format", at));
            }
            let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
            for pair in argv.chunks(2) {
                let k = &pair[0];
                if k.eq_ignore_ascii_case(b"file") {
                    let n = String::from_utf8_lossy(&pair[1]).into_owned();
                    if n.contains('/') {
                        return Err(err("File can't be a path, just a filename", at));
                    }
                    name = Some(n);
                } else if k.eq_ignore_ascii_case(b"seq") {
                    seq = crate::config::parse::c_strtoll(&pair[1], 10).value;
                } else if k.eq_ignore_ascii_case(b"type") {
                    kind = pair[1].first().copied().unwrap_or(0);
                }
            }
            let (Some(name), true, true) = (name, seq != 0, kind != 0) else {
                return Err(err("Invalid AOF manifest file format", at));
            };
            let info = AofInfo { name, seq, kind };
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err(err("Found duplicate base file information", at));
                    }
                    m.curr_base_seq = seq;
                    m.base = Some(info);
                }
                b'h' => m.history.push(info),
                b'i' => {
                    if seq <= maxseq {
                        return Err(err("Found a non-monotonic sequence number", at));
                    }
                    maxseq = seq;
                    m.curr_incr_seq = seq;
                    m.incr.push(info);
                }
                _ => return Err(err("Unknown AOF file type", at)),
            }
        }
        Ok(m)
    }

    /// The manifest as written to disk: base, history, then incr files.
    pub fn format(&self) -> String {
        let mut s = String::new();
        let line = |s: &mut String, i: &AofInfo| {
            let name = if needs_repr(i.name.as_bytes()) {
                crate::config::parse::repr(i.name.as_bytes())
            } else {
                i.name.clone()
            };
            s.push_str(&format!(
                "file {} seq {} type {}\n",
                name, i.seq, i.kind as char
            ));
        };
        if let Some(b) = &self.base {
            line(&mut s, b);
        }
        for h in &self.history {
            line(&mut s, h);
        }
        for i in &self.incr {
            line(&mut s, i);
        }
        s
    }

    /// Name a new BASE file; the current one becomes history
    /// (getNewBaseFileNameAndMarkPreAsHistory).
    pub fn new_base(&mut self, filename: &str, rdb: bool) -> String {
        if let Some(mut b) = self.base.take() {
            b.kind = b'h';
            self.history.insert(0, b);
        }
        self.curr_base_seq += 1;
        let name = format!(
            "{}.{}.base.{}",
            filename,
            self.curr_base_seq,
            if rdb { "rdb" } else { "aof" }
        );
        self.base = Some(AofInfo {
            name: name.clone(),
            seq: self.curr_base_seq,
            kind: b'b',
        });
        self.dirty = true;
        name
    }

    /// Name and add a new INCR file (getNewIncrAofName).
    pub fn new_incr(&mut self, filename: &str) -> String {
        self.curr_incr_seq += 1;
        let name = format!("{}.{}.incr.aof", filename, self.curr_incr_seq);
        self.incr.push(AofInfo {
            name: name.clone(),
            seq: self.curr_incr_seq,
            kind: b'i',
        });
        self.dirty = true;
        name
    }

    /// The INCR file to append to, created if there is none (getLastIncrAofName).
    pub fn last_incr(&mut self, filename: &str) -> String {
        match self.incr.last() {
            Some(i) => i.name.clone(),
            None => self.new_incr(filename),
        }
    }

    /// After a rewrite, the INCR files it covers become history, except the one being
    /// written when `keep_last` (markRewrittenIncrAofAsHistory).
    pub fn mark_rewritten_incr_as_history(&mut self, keep_last: bool) {
        if self.incr.is_empty() {
            return;
        }
        let keep = if keep_last { self.incr.pop() } else { None };
        for mut i in self.incr.drain(..).rev() {
            i.kind = b'h';
            self.history.insert(0, i);
        }
        if let Some(k) = keep {
            self.incr.push(k);
        }
        self.dirty = true;
    }
}

/// Does a file name need quoting in the manifest (Redis's sdsneedsrepr)?
fn needs_repr(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| matches!(c, b'\\' | b'"') || !c.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip() {
        let text = b"file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\nfile appendonly.aof.4.incr.aof seq 4 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.curr_base_seq, 2);
        assert_eq!(m.curr_incr_seq, 4);
        assert_eq!(m.incr.len(), 2);
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.format().as_bytes(), text);
    }

    #[test]
    fn manifest_errors() {
        assert_eq!(
            Manifest::parse(b"").unwrap_err().msg,
            "Found an empty AOF manifest"
        );
        assert_eq!(
            Manifest::parse(b"file a seq 1\n").unwrap_err().msg,
            "Invalid AOF manifest file format"
        );
        assert_eq!(
            Manifest::parse(b"file a seq 2 type i\nfile b seq 1 type i\n")
                .unwrap_err()
                .msg,
            "Found a non-monotonic sequence number"
        );
        assert_eq!(
            Manifest::parse(b"file a seq 1 type x\n").unwrap_err().msg,
            "Unknown AOF file type"
        );
        assert_eq!(
            Manifest::parse(b"file dir/a seq 1 type b\n")
                .unwrap_err()
                .msg,
            "File can't be a path, just a filename"
        );
    }

    #[test]
    fn rewrite_bookkeeping() {
        let mut m = Manifest::default();
        assert_eq!(
            m.new_base("appendonly.aof", true),
            "appendonly.aof.1.base.rdb"
        );
        assert_eq!(m.last_incr("appendonly.aof"), "appendonly.aof.1.incr.aof");
        assert_eq!(m.new_incr("appendonly.aof"), "appendonly.aof.2.incr.aof");
        m.new_base("appendonly.aof", false);
        m.mark_rewritten_incr_as_history(true);
        assert_eq!(m.incr.len(), 1);
        assert_eq!(m.incr[0].seq, 2);
        assert_eq!(m.history.len(), 2);
        assert!(m
            .format()
            .starts_with("file appendonly.aof.2.base.aof seq 2 type b\n"));
    }
}
