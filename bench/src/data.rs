//! The benchmark dataset: a seeded CSV of `id,first_name,country,amount,created_at,active,attributes`.
//!
//! The rows follow faucet-stream's `gen_bench_data.py`: Python's
//! `random.Random(seed)` drawn per row in the order step seconds, tier, score,
//! tag count, tag sample, first name, country, amount, active; written like
//! Python's `csv.writer` (CRLF line endings, minimal quoting, so only the
//! `attributes` column is quoted). [`PyRandom`] reproduces the draws of
//! CPython's `random` module bit for bit.

use std::io::{self, Write};

const NAMES: [&str; 16] = [
    "Ada", "Bo", "Chen", "Dinesh", "Eve", "Farah", "Gus", "Hana", "Ivan", "Juno", "Kato", "Lena", "Mira",
    "Nils", "Omar", "Priya",
];
const COUNTRIES: [&str; 10] = ["US", "GB", "DE", "IN", "JP", "BR", "NG", "CA", "AU", "FR"];
const TIERS: [&str; 3] = ["free", "pro", "enterprise"];
const TAGS: [&str; 5] = ["alpha", "beta", "gamma", "delta", "epsilon"];
/// 2020-01-01T00:00:00Z as Unix seconds.
const START: i64 = 1_577_836_800;

/// The header line's columns.
pub const HEADER: [&str; 7] = ["id", "first_name", "country", "amount", "created_at", "active", "attributes"];

/// CPython's `random.Random`: MT19937 seeded by `init_by_array`, with the
/// same `random()`, `getrandbits`, `randint`, `choice`, `sample` and `uniform`.
pub struct PyRandom {
    state: [u32; 624],
    index: usize,
}

impl PyRandom {
    /// `random.Random(seed)` for a non-negative integer seed.
    pub fn new(seed: u64) -> Self {
        let mut key = vec![seed as u32];
        if seed >> 32 != 0 {
            key.push((seed >> 32) as u32);
        }
        let mut rng = PyRandom { state: [0; 624], index: 624 };
        rng.init_by_array(&key);
        rng
    }

    fn init_genrand(&mut self, seed: u32) {
        self.state[0] = seed;
        for i in 1..624 {
            let prev = self.state[i - 1];
            self.state[i] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(i as u32);
        }
        self.index = 624;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..624.max(key.len()) {
            let prev = self.state[i - 1];
            self.state[i] = (self.state[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= 624 {
                self.state[0] = self.state[623];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..623 {
            let prev = self.state[i - 1];
            self.state[i] =
                (self.state[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= 624 {
                self.state[0] = self.state[623];
                i = 1;
            }
        }
        self.state[0] = 0x8000_0000;
    }

    fn twist(&mut self) {
        for k in 0..624 {
            let y = (self.state[k] & 0x8000_0000) | (self.state[(k + 1) % 624] & 0x7fff_ffff);
            let mut next = self.state[(k + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                next ^= 0x9908_b0df;
            }
            self.state[k] = next;
        }
        self.index = 0;
    }

    /// The next 32 random bits (`genrand_uint32`).
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random()`: a float in [0, 1) with 53 random bits.
    pub fn random(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `getrandbits(k)` for `1 <= k <= 32`.
    fn getrandbits(&mut self, k: u32) -> u32 {
        self.next_u32() >> (32 - k)
    }

    /// `_randbelow(n)`: rejection sampling over `n.bit_length()` bits.
    fn below(&mut self, n: u32) -> u32 {
        let bits = 32 - n.leading_zeros();
        loop {
            let r = self.getrandbits(bits);
            if r < n {
                return r;
            }
        }
    }

    /// `randint(a, b)`, both ends included.
    pub fn randint(&mut self, a: u32, b: u32) -> u32 {
        a + self.below(b - a + 1)
    }

    /// `choice(items)`.
    pub fn choice<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u32) as usize]
    }

    /// `uniform(a, b)`.
    pub fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.random()
    }

    /// `sample(items, k)` for the small populations used here (`len <= 21`).
    pub fn sample<'a>(&mut self, items: &[&'a str], k: usize) -> Vec<&'a str> {
        let n = items.len();
        assert!(k <= n && n <= 21, "sample: only small populations are supported");
        let mut pool = items.to_vec();
        let mut out = Vec::with_capacity(k);
        for i in 0..k {
            let j = self.below((n - i) as u32) as usize;
            out.push(pool[j]);
            pool[j] = pool[n - i - 1];
        }
        out
    }
}

/// `str(round(x, digits))` in Python: correctly rounded, then the shortest
/// representation, which always keeps one digit after the point (`1234.0`).
pub fn py_round_str(x: f64, digits: usize) -> String {
    let mut s = format!("{x:.digits$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.push('0');
        }
    }
    s
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (proleptic Gregorian, UTC).
pub fn rfc3339_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Writes `field` as Python's `csv.writer` does by default: quoted only when
/// it holds a comma, a quote or a line break, with quotes doubled.
fn write_field(out: &mut impl Write, field: &str) -> io::Result<()> {
    if field.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.write_all(b"\"")?;
        out.write_all(field.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(field.as_bytes())
    }
}

fn write_row(out: &mut impl Write, fields: &[&str]) -> io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_field(out, field)?;
    }
    out.write_all(b"\r\n")
}

/// One row's fields, drawn in faucet-stream's order.
struct Row {
    created_at: String,
    first_name: &'static str,
    country: &'static str,
    amount: String,
    active: &'static str,
    attributes: String,
}

impl Row {
    /// Draws the next row; `t` is the previous row's timestamp, advanced in place.
    fn draw(rng: &mut PyRandom, t: &mut i64) -> Row {
        *t += i64::from(rng.randint(1, 90));
        let tier = rng.choice(&TIERS);
        let score = py_round_str(rng.uniform(0.0, 100.0), 3);
        let count = rng.randint(1, 3) as usize;
        let tags = rng.sample(&TAGS, count);
        let first_name = rng.choice(&NAMES);
        let country = rng.choice(&COUNTRIES);
        let amount = py_round_str(rng.uniform(1.0, 10_000.0), 2);
        let active = if rng.random() < 0.5 { "true" } else { "false" };
        let tags = tags.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(",");
        let attributes = format!("{{\"tier\":\"{tier}\",\"score\":{score},\"tags\":[{tags}]}}");
        Row { created_at: rfc3339_utc(*t), first_name, country, amount, active, attributes }
    }
}

/// Writes the header and `rows` rows drawn from `random.Random(seed)` to `out`.
pub fn generate(out: &mut impl Write, rows: u64, seed: u64) -> io::Result<()> {
    let mut rng = PyRandom::new(seed);
    let mut t = START;
    write_row(out, &HEADER)?;
    for id in 1..=rows {
        let row = Row::draw(&mut rng, &mut t);
        let id = id.to_string();
        write_row(
            out,
            &[&id, row.first_name, row.country, &row.amount, &row.created_at, row.active, &row.attributes],
        )?;
    }
    Ok(())
}

/// The same rows as typed JSON Lines (scenario J): `id` an integer, `amount`
/// and a full-precision double `ratio` numbers, `active` a boolean,
/// `attributes` an object. `ratio` comes from a second generator, so the
/// other fields equal the CSV's.
pub fn generate_jsonl(out: &mut impl Write, rows: u64, seed: u64) -> io::Result<()> {
    let (mut rng, mut ratios) = (PyRandom::new(seed), PyRandom::new(seed ^ 0x5eed));
    let mut t = START;
    for id in 1..=rows {
        let row = Row::draw(&mut rng, &mut t);
        let ratio = ratios.random() * 10f64.powi(ratios.randint(0, 13) as i32 - 5);
        writeln!(
            out,
            "{{\"id\":{id},\"first_name\":\"{}\",\"country\":\"{}\",\"amount\":{},\"ratio\":{ratio:?},\"created_at\":\"{}\",\"active\":{},\"attributes\":{}}}",
            row.first_name, row.country, row.amount, row.created_at, row.active, row.attributes
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_cpython_random_for_seed_42() {
        // python3 -c 'import random; r = random.Random(42); print([r.random() for _ in range(3)])'
        let mut rng = PyRandom::new(42);
        assert_eq!(rng.random(), 0.6394267984578837);
        assert_eq!(rng.random(), 0.025010755222666936);
        assert_eq!(rng.random(), 0.27502931836911926);
        // r = random.Random(42); [r.randint(1, 90) for _ in range(5)]
        let mut rng = PyRandom::new(42);
        let draws: Vec<u32> = (0..5).map(|_| rng.randint(1, 90)).collect();
        assert_eq!(draws, [82, 15, 4, 36, 32]);
    }

    #[test]
    fn python_round_and_str() {
        assert_eq!(py_round_str(1234.5, 2), "1234.5");
        assert_eq!(py_round_str(1234.0, 2), "1234.0");
        assert_eq!(py_round_str(12.3456, 3), "12.346");
        assert_eq!(py_round_str(0.0001, 3), "0.0");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339_utc(START), "2020-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(START + 59 * 86_400 + 3661), "2020-02-29T01:01:01Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn rows_are_deterministic_crlf_and_minimally_quoted() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        generate(&mut a, 50, 42).unwrap();
        generate(&mut b, 50, 42).unwrap();
        assert_eq!(a, b);
        let text = String::from_utf8(a).unwrap();
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), 51);
        assert_eq!(lines[0], "id,first_name,country,amount,created_at,active,attributes");
        assert!(!text.replace("\r\n", "").contains('\n'));
        for line in &lines[1..] {
            let (plain, quoted) = line.split_once(",\"{").unwrap();
            assert_eq!(plain.split(',').count(), 6, "{line}");
            assert!(quoted.starts_with("\"\"tier\"\":") && quoted.ends_with("]}\""), "{line}");
        }
    }
}
