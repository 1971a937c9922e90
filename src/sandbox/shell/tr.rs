//! busybox `tr [-d] SET1 [SET2]`: characters of SET1 become those of SET2 at the same
//! place (the last of SET2 repeats), or with `-d` go. Sets know `\n`, `\r`, `\t`, `\\`,
//! `\NNN` (octal) and ranges `a-z`.

use super::process::{Shell, Sink};

/// A set as the bytes it stands for.
fn expand(set: &str) -> Vec<u8> {
    let bytes = set.as_bytes();
    let mut plain = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            i += 1;
            let octal: Vec<u8> = bytes[i..]
                .iter()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(b))
                .copied()
                .collect();
            if octal.is_empty() {
                plain.push(match bytes[i] {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    other => other,
                });
                i += 1;
            } else {
                let value = octal.iter().fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                plain.push(u8::try_from(value & 0xff).unwrap_or(0));
                i += octal.len();
            }
        } else {
            plain.push(bytes[i]);
            i += 1;
        }
    }
    // Ranges, on the unescaped bytes.
    let mut out = Vec::new();
    let mut k = 0;
    while k < plain.len() {
        if k + 2 < plain.len() && plain[k + 1] == b'-' && plain[k] <= plain[k + 2] {
            out.extend(plain[k]..=plain[k + 2]);
            k += 3;
        } else {
            out.push(plain[k]);
            k += 1;
        }
    }
    out
}

pub(super) fn tr(shell: &Shell, args: &[String], stdin: &[u8], sink: &mut Sink) -> i32 {
    let usage = "BusyBox v1.36.1 multi-call binary.\n\nUsage: tr [-cds] STRING1 [STRING2]";
    let (delete, sets) = match args.first().map(String::as_str) {
        Some("-d") => (true, &args[1..]),
        Some(flag) if flag.starts_with('-') && flag.len() > 1 => {
            shell.error(&format!("tr: unrecognized option: {}", &flag[1..]));
            shell.error(usage);
            return 1;
        }
        _ => (false, args),
    };
    let out: Vec<u8> = match (delete, sets) {
        (true, [set]) => {
            let gone = expand(set);
            stdin
                .iter()
                .copied()
                .filter(|b| !gone.contains(b))
                .collect()
        }
        (false, [from, to]) => {
            let (from, to) = (expand(from), expand(to));
            let Some(&last) = to.last() else {
                shell.error("tr: STRING2 cannot be empty");
                return 1;
            };
            stdin
                .iter()
                .map(|b| match from.iter().rposition(|f| f == b) {
                    Some(i) => to.get(i).copied().unwrap_or(last),
                    None => *b,
                })
                .collect()
        }
        _ => {
            shell.error(usage);
            return 1;
        }
    };
    shell.write(sink, &out);
    0
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn sets() {
        assert_eq!(expand(r"\n\r"), b"\n\r");
        assert_eq!(expand("a-d"), b"abcd");
        assert_eq!(expand(r"\001x"), b"\x01x");
        assert_eq!(expand(r"\\"), b"\\");
    }
}
