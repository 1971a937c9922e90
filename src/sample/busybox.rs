//! The fast path for busybox replies in UTC, for reading transcripts of a million lines:
//! fixed columns read as bytes, and the date read once a day.

/// The fast path for the commonest reply, `one Thu Dec  5 00:14:09 UTC 2024` (busybox
/// or GNU `date` in UTC): the label and the time in seconds since the epoch, or None for
/// anything else, which the general parser then reads. It accepts only lines the general
/// parser reads the same way.
pub fn busybox_utc(line: &[u8]) -> Option<(&[u8], i64)> {
    let (label, r) = framed(line)?;
    Some((label, days(r)? * 86_400 + clock(r)?))
}

/// The date of the last busybox line read: replies come seconds apart, so the next line
/// nearly always has the same day, and only its clock needs reading.
#[derive(Debug, Default, Clone)]
pub struct DateCache {
    /// The weekday, month, day and year columns as the line had them.
    date: Option<([u8; 10], [u8; 9])>,
    days: i64,
}

/// `busybox_utc` for a stream of lines: the same answers, with the date read once a day.
pub fn busybox_utc_cached<'a>(line: &'a [u8], cache: &mut DateCache) -> Option<(&'a [u8], i64)> {
    let (label, r) = framed(line)?;
    let date: [u8; 10] = r[0..10].try_into().ok()?;
    let zone_year: [u8; 9] = r[19..28].try_into().ok()?;
    if cache.date != Some((date, zone_year)) {
        cache.days = days(r)?;
        cache.date = Some((date, zone_year));
    }
    Some((label, cache.days * 86_400 + clock(r)?))
}

/// A printable label, one space, then a timestamp of busybox's fixed columns in UTC
/// (`Thu Dec  5 00:14:09 UTC 2024`): the label and those 28 bytes.
fn framed(line: &[u8]) -> Option<(&[u8], &[u8; 28])> {
    let split = line.len().checked_sub(29)?;
    let (label, rest) = (&line[..split], &line[split + 1..]);
    if line[split] != b' ' || label.is_empty() || label.iter().any(|b| !(0x21..0x7f).contains(b)) {
        return None;
    }
    let r: &[u8; 28] = rest.try_into().ok()?;
    if r[3] != b' ' || r[7] != b' ' || r[10] != b' ' || r[13] != b':' || r[16] != b':' {
        return None;
    }
    if &r[19..24] != b" UTC " {
        return None;
    }
    Some((label, r))
}

/// A byte below '0' wraps above 9, so one comparison checks a digit.
fn digit(b: u8) -> u8 {
    b.wrapping_sub(b'0')
}

/// `HH:MM:SS` as seconds into the day.
fn clock(r: &[u8; 28]) -> Option<i64> {
    if [11, 12, 14, 15, 17, 18].iter().any(|&i| digit(r[i]) > 9) {
        return None;
    }
    let num = |i: usize| i64::from(digit(r[i])) * 10 + i64::from(digit(r[i + 1]));
    let (hour, minute, second) = (num(11), num(14), num(17));
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(hour * 3600 + minute * 60 + second)
}

/// The date (weekday, month, day, year) as days since the epoch.
fn days(r: &[u8; 28]) -> Option<i64> {
    let name =
        |at: usize| u64::from(r[at]) | u64::from(r[at + 1]) << 8 | u64::from(r[at + 2]) << 16;
    if !WEEKDAY_KEYS.contains(&name(0)) {
        return None;
    }
    let month = MONTH_KEYS.iter().position(|k| *k == name(4))? as i64 + 1;
    let tens = match r[8] {
        b' ' => 0,
        b => digit(b),
    };
    if tens > 9 || [9, 24, 25, 26, 27].iter().any(|&i| digit(r[i]) > 9) {
        return None;
    }
    let num = |i: usize| i64::from(digit(r[i])) * 10 + i64::from(digit(r[i + 1]));
    let day = i64::from(tens) * 10 + i64::from(digit(r[9]));
    let year = num(24) * 100 + num(26);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days_in_month {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Up to eight bytes as one number, for comparing short names in one step.
const fn key(bytes: &[u8]) -> u64 {
    let mut k = 0u64;
    let mut i = 0;
    while i < bytes.len() && i < 8 {
        k |= (bytes[i] as u64) << (8 * i);
        i += 1;
    }
    k
}

const WEEKDAY_KEYS: [u64; 7] = [
    key(b"Mon"),
    key(b"Tue"),
    key(b"Wed"),
    key(b"Thu"),
    key(b"Fri"),
    key(b"Sat"),
    key(b"Sun"),
];
const MONTH_KEYS: [u64; 12] = [
    key(b"Jan"),
    key(b"Feb"),
    key(b"Mar"),
    key(b"Apr"),
    key(b"May"),
    key(b"Jun"),
    key(b"Jul"),
    key(b"Aug"),
    key(b"Sep"),
    key(b"Oct"),
    key(b"Nov"),
    key(b"Dec"),
];
