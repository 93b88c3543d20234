//! Identity input: what a retiree or a relative types, checked and normalised.
//!
//! * [`IdNumber`]: mainland resident identity card numbers (GB 11643-1999, 18
//!   characters, and the legacy 15-digit form) and the residence permits for
//!   Hong Kong, Macao and Taiwan residents (港澳台居民居住证).
//! * [`MobileNumber`]: mainland mobile numbers.
//! * [`PersonName`]: Chinese names (with the middle dot of minority and
//!   transliterated names) and Latin-letter names.
//! * [`SubjectKey`] / [`SubjectReference`]: the keyed pseudonym that the core
//!   stores instead of an ID number; [`Subject::identify`] derives it (with the
//!   checked name) from what was typed.
//!
//! All parsing is total: bad input gives an [`IdentityError`], never a panic.
//! Errors carry positions and counts but never the characters the user typed,
//! so they are safe to log. `Debug` output of [`IdNumber`], [`MobileNumber`]
//! and [`PersonName`] is masked for the same reason; use `as_str()` for the
//! full value. No type here implements `Display` for the full value, so a
//! stray `{}` in a log line cannot leak it.
//!
//! Lenient input, strict output: surrounding whitespace is trimmed, and
//! full-width digits and letters (typed with a Chinese input method in
//! full-width mode) are folded to ASCII. Everything else is rejected rather
//! than guessed.
#![forbid(unsafe_code)]

use std::fmt;
use std::hash::{Hash, Hasher};

use ring::hmac;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use zeroize::Zeroizing;

/// Why an identity input was rejected.
///
/// Positions count Unicode scalar values (`char`s) from the start of the
/// input after surrounding whitespace has been trimmed, starting at 0.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Nothing but whitespace was given.
    #[error("input is empty")]
    Empty,
    /// A character that is not allowed here.
    #[error("invalid character at position {position}")]
    InvalidCharacter {
        /// Position of the offending character.
        position: usize,
    },
    /// Whitespace inside a value that may not contain any.
    #[error("whitespace inside the value at position {position}")]
    InnerWhitespace {
        /// Position of the whitespace character.
        position: usize,
    },
    /// An ID number that is neither 18 nor (legacy) 15 characters long.
    #[error("an ID number has 18 (or legacy 15) characters, got {len}")]
    InvalidLength {
        /// Number of characters given.
        len: usize,
    },
    /// The region code's province part is not a real province-level code.
    #[error("unknown region code")]
    UnknownRegion,
    /// The birth date digits are not a real calendar date.
    #[error("birth date is not a real calendar date")]
    InvalidBirthDate,
    /// The birth date lies after `today`.
    #[error("birth date is in the future")]
    BirthDateInFuture,
    /// The birth date lies before 1850-01-01.
    #[error("birth date is before 1850")]
    BirthDateTooEarly,
    /// The check character does not match the first 17 digits.
    #[error("check character does not match")]
    BadCheckCharacter,
    /// [`Date::new`] was given a day that does not exist.
    #[error("invalid date {year:04}-{month:02}-{day:02}")]
    InvalidDate {
        /// Year given.
        year: u16,
        /// Month given.
        month: u8,
        /// Day given.
        day: u8,
    },
    /// [`IdNumber::age_on`] was asked about a day before the birth date.
    #[error("date is before the birth date")]
    DateBeforeBirth,
    /// A mobile number without 11 digits (after removing any +86 prefix).
    #[error("a mainland mobile number has 11 digits, got {digits}")]
    MobileLength {
        /// Number of digits left after removing separators and prefix.
        digits: usize,
    },
    /// 11 digits, but not a mainland mobile number (must start 13–19), or a
    /// country code other than +86.
    #[error("not a mainland mobile number")]
    NotMobile,
    /// A name longer than [`PersonName::MAX_CHARS`] characters.
    #[error("a name has 1 to {max} characters, got {len}")]
    NameLength {
        /// Number of characters given.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A name that mixes Chinese characters and Latin letters.
    #[error("a name may not mix Chinese characters and Latin letters")]
    MixedScript,
    /// A middle dot at the start or end of a name, or two in a row.
    #[error("misplaced middle dot at position {position}")]
    MisplacedDot {
        /// Position of the offending dot.
        position: usize,
    },
    /// A space, hyphen or apostrophe in a Latin name that does not sit
    /// between two letters (e.g. two spaces in a row).
    #[error("misplaced separator at position {position}")]
    MisplacedSeparator {
        /// Position of the offending separator.
        position: usize,
    },
    /// A [`SubjectKey`] shorter than [`SubjectKey::MIN_LEN`] bytes.
    #[error("subject key must be at least {min} bytes, got {len}")]
    KeyTooShort {
        /// Length given.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// A [`SubjectReference`] that is not 64 hexadecimal digits.
    #[error("a subject reference is 64 hexadecimal digits")]
    InvalidReference,
}

// ---------------------------------------------------------------------------
// Date
// ---------------------------------------------------------------------------

/// A calendar date (proleptic Gregorian), always valid: years 1–9999.
///
/// Ordering is chronological. Serialises as `{"year":..,"month":..,"day":..}`
/// and is re-validated when deserialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "DateParts")]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

#[derive(Deserialize)]
struct DateParts {
    year: u16,
    month: u8,
    day: u8,
}

impl TryFrom<DateParts> for Date {
    type Error = IdentityError;
    fn try_from(p: DateParts) -> Result<Self, Self::Error> {
        Date::new(p.year, p.month, p.day)
    }
}

impl Date {
    /// A checked date. Leap years follow the Gregorian rule (divisible by 4,
    /// except centuries not divisible by 400).
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, IdentityError> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        if valid {
            Ok(Date { year, month, day })
        } else {
            Err(IdentityError::InvalidDate { year, month, day })
        }
    }

    /// The year (1–9999).
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month (1–12).
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month (1–31).
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The calendar date in China Standard Time (UTC+8) at `unix_seconds`; `None` outside
    /// the years 1970–9999 (also for times so large that adding the 8 hours would overflow:
    /// the arithmetic is checked, never wrapped back to 1970).
    pub fn from_unix_china(unix_seconds: u64) -> Option<Self> {
        // Days since 1970-01-01 to a civil date (H. Hinnant's days_from_civil, inverted).
        let local = unix_seconds.checked_add(8 * 3600)?;
        let days = i64::try_from(local / 86_400).ok()?.checked_add(719_468)?;
        let era = days.div_euclid(146_097);
        let doe = days.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = u8::try_from(doy - (153 * mp + 2) / 5 + 1).ok()?;
        let month = u8::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).ok()?;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(u16::try_from(year).ok()?, month, day).ok()
    }

    /// Whether `year` is a Gregorian leap year.
    pub fn is_leap_year(year: u16) -> bool {
        (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
    }
}

impl fmt::Display for Date {
    /// ISO 8601: `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if Date::is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The earliest birth date accepted in an ID number.
const EARLIEST_BIRTH: Date = Date {
    year: 1850,
    month: 1,
    day: 1,
};

// ---------------------------------------------------------------------------
// ID numbers
// ---------------------------------------------------------------------------

/// Which document an [`IdNumber`] belongs to. Exhaustive on purpose: the bindings export
/// this very type (`lifecert-ffi`, a uniffi remote enum), so a new kind fails their build
/// until it is declared there, instead of reaching a shell as an unknown value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdKind {
    /// Mainland resident identity card, 18 characters (GB 11643-1999).
    MainlandResident,
    /// Mainland resident identity card, legacy 15-digit form (pre-1999; born
    /// 1900–1999, no check character).
    MainlandResidentLegacy15,
    /// Residence permit for Hong Kong residents (region code 810000).
    HongKongResidencePermit,
    /// Residence permit for Macao residents (region code 820000).
    MacaoResidencePermit,
    /// Residence permit for Taiwan residents (region code 830000).
    TaiwanResidencePermit,
}

/// Sex as encoded in an ID number's sequence code (odd = male, even = female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// Odd sequence digit.
    Male,
    /// Even sequence digit.
    Female,
}

/// ISO 7064 MOD 11-2 weights for the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for `sum % 11`.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Province-level codes (first two digits) accepted for resident ID cards,
/// per GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macao). 83 is accepted only as
/// the exact region code 830000 of a Taiwan residents' residence permit.
const PROVINCES: [(u32, u32); 8] = [
    (11, 15),
    (21, 23),
    (31, 37),
    (41, 46),
    (50, 54),
    (61, 65),
    (71, 71),
    (81, 82),
];

/// The ISO 7064 MOD 11-2 check character (`'0'`–`'9'` or `'X'`) for the first
/// 17 digits of an 18-character ID number.
///
/// `first17` must be exactly 17 ASCII digits, otherwise `InvalidLength` or
/// `InvalidCharacter` is returned.
pub fn mod11_2_check_character(first17: &str) -> Result<char, IdentityError> {
    let bytes = first17.as_bytes();
    if let Some(position) = first17.chars().position(|c| !c.is_ascii_digit()) {
        return Err(IdentityError::InvalidCharacter { position });
    }
    if bytes.len() != 17 {
        return Err(IdentityError::InvalidLength { len: bytes.len() });
    }
    Ok(char::from(check_byte(bytes)))
}

/// Check byte for (at least) 17 ASCII digits; only the first 17 are used.
fn check_byte(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d.wrapping_sub(b'0')) * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Value of a run of ASCII digits (callers have validated them).
fn digits_value(digits: &[u8]) -> u32 {
    digits.iter().fold(0u32, |acc, d| {
        acc.wrapping_mul(10)
            .wrapping_add(u32::from(d.wrapping_sub(b'0')))
    })
}

/// A validated, normalised ID number: a mainland resident identity card
/// number (18 characters or legacy 15 digits) or a Hong Kong / Macao / Taiwan
/// residents' residence permit number.
///
/// The normalised form has no whitespace, ASCII digits only and an upper-case
/// `'X'` check character. The number is held in a buffer that is zeroised on
/// drop. `Debug` prints only the masked form. It deliberately implements
/// neither `Display` nor `Serialize`: persist a [`SubjectReference`] instead.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber {
    number: Zeroizing<String>,
    kind: IdKind,
    birth_date: Date,
    sex: Sex,
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdNumber")
            .field("number", &self.masked())
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl IdNumber {
    /// Parses what a user typed.
    ///
    /// Accepts 18 characters (17 digits + check digit or `X`) or the legacy
    /// 15 digits. Surrounding whitespace is trimmed; whitespace inside is
    /// rejected (`InnerWhitespace`). Lower-case `x` and full-width digits /
    /// `Ｘ` are normalised. Checks, in this order: characters, length, region
    /// (province-level code, or 810000/820000/830000 for permits), birth date
    /// (a real date, not before 1850-01-01, not after `today`), check
    /// character.
    ///
    /// Only the province part of the region code is checked: the county-level
    /// codes of GB/T 2260 change every year and old cards keep codes of
    /// counties that no longer exist, so a full table would reject real
    /// people.
    pub fn parse(input: &str, today: Date) -> Result<Self, IdentityError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(IdentityError::Empty);
        }
        // Never more than 18 bytes are stored, so the buffer never reallocates
        // (which would leave an unzeroised copy behind).
        let mut digits = Zeroizing::new(Vec::with_capacity(18));
        let mut len = 0usize;
        for (position, c) in trimmed.chars().enumerate() {
            let b = match c {
                '0'..='9' => c as u8,
                '\u{FF10}'..='\u{FF19}' => b'0' + (u32::from(c) - 0xFF10) as u8,
                'x' | 'X' | '\u{FF38}' | '\u{FF58}' => b'X',
                c if c.is_whitespace() => return Err(IdentityError::InnerWhitespace { position }),
                _ => return Err(IdentityError::InvalidCharacter { position }),
            };
            if digits.len() < 18 {
                digits.push(b);
            }
            len += 1;
        }
        if len != 18 && len != 15 {
            return Err(IdentityError::InvalidLength { len });
        }
        if let Some(position) = digits
            .iter()
            .enumerate()
            .position(|(i, &b)| b == b'X' && !(len == 18 && i == 17))
        {
            return Err(IdentityError::InvalidCharacter { position });
        }

        let region = digits_value(digits.get(0..6).unwrap_or_default());
        let (kind, date_digits, sex_digit) = if len == 18 {
            let kind = match region {
                810000 => IdKind::HongKongResidencePermit,
                820000 => IdKind::MacaoResidencePermit,
                830000 => IdKind::TaiwanResidencePermit,
                _ => IdKind::MainlandResident,
            };
            (
                kind,
                digits_value(digits.get(6..14).unwrap_or_default()),
                16,
            )
        } else {
            (
                IdKind::MainlandResidentLegacy15,
                19_000_000 + digits_value(digits.get(6..12).unwrap_or_default()),
                14,
            )
        };
        if matches!(
            kind,
            IdKind::MainlandResident | IdKind::MainlandResidentLegacy15
        ) {
            let province = region / 10_000;
            if !PROVINCES
                .iter()
                .any(|&(lo, hi)| (lo..=hi).contains(&province))
            {
                return Err(IdentityError::UnknownRegion);
            }
        }

        let birth_date = Date::new(
            (date_digits / 10_000) as u16,
            (date_digits / 100 % 100) as u8,
            (date_digits % 100) as u8,
        )
        .map_err(|_| IdentityError::InvalidBirthDate)?;
        if birth_date < EARLIEST_BIRTH {
            return Err(IdentityError::BirthDateTooEarly);
        }
        if birth_date > today {
            return Err(IdentityError::BirthDateInFuture);
        }

        if len == 18 && digits.get(17).copied() != Some(check_byte(&digits)) {
            return Err(IdentityError::BadCheckCharacter);
        }

        let sex = match digits.get(sex_digit).map(|d| d.wrapping_sub(b'0') % 2) {
            Some(1) => Sex::Male,
            _ => Sex::Female,
        };
        let mut number = Zeroizing::new(String::with_capacity(18));
        number.extend(digits.iter().map(|&b| char::from(b)));
        tracing::trace!(?kind, "parsed ID number");
        Ok(IdNumber {
            number,
            kind,
            birth_date,
            sex,
        })
    }

    /// Which document this number belongs to.
    pub fn kind(&self) -> IdKind {
        self.kind
    }

    /// Whether this is the legacy 15-digit form.
    pub fn is_legacy(&self) -> bool {
        self.kind == IdKind::MainlandResidentLegacy15
    }

    /// Birth date encoded in the number.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// Sex encoded in the sequence code.
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// The 6-digit administrative region code (810000/820000/830000 for
    /// permits).
    pub fn region_code(&self) -> u32 {
        digits_value(self.number.as_bytes().get(0..6).unwrap_or_default())
    }

    /// The full normalised number (15 or 18 ASCII characters). Handle with
    /// care: this is personal data.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// The 18-character form: a legacy 15-digit number is upgraded by
    /// inserting `19` before the two-digit birth year and appending the check
    /// character; an 18-character number is returned unchanged.
    pub fn to_18(&self) -> IdNumber {
        if !self.is_legacy() {
            return self.clone();
        }
        let old = self.number.as_bytes();
        let mut digits = Zeroizing::new(Vec::with_capacity(18));
        digits.extend_from_slice(old.get(0..6).unwrap_or_default());
        digits.extend_from_slice(b"19");
        digits.extend_from_slice(old.get(6..15).unwrap_or_default());
        let check = check_byte(&digits);
        digits.push(check);
        let mut number = Zeroizing::new(String::with_capacity(18));
        number.extend(digits.iter().map(|&b| char::from(b)));
        IdNumber {
            number,
            kind: IdKind::MainlandResident,
            birth_date: self.birth_date,
            sex: self.sex,
        }
    }

    /// Masked for display: the first 3 and the last 4 characters of an
    /// 18-character number are kept and the 11 in between (which include the
    /// whole birth date) become `*`, e.g. `110***********002X`; for a legacy
    /// 15-digit number the first 3 and last 3 are kept, e.g.
    /// `110*********001`. The result has as many characters as the number.
    pub fn masked(&self) -> String {
        let keep_tail = if self.is_legacy() { 3 } else { 4 };
        mask_middle(&self.number, 3, keep_tail)
    }

    /// Age in completed years on `date` (someone born on 29 February turns a
    /// year older on 1 March in non-leap years). `DateBeforeBirth` if `date`
    /// is before the birth date.
    pub fn age_on(&self, date: Date) -> Result<u16, IdentityError> {
        let b = self.birth_date;
        if date < b {
            return Err(IdentityError::DateBeforeBirth);
        }
        let had_birthday = (date.month, date.day) >= (b.month, b.day);
        Ok(date
            .year
            .saturating_sub(b.year)
            .saturating_sub(u16::from(!had_birthday)))
    }
}

/// Keeps `head` leading and `tail` trailing chars and stars the rest.
fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < head || i + tail >= n { c } else { '*' })
        .collect()
}

// ---------------------------------------------------------------------------
// Mobile numbers
// ---------------------------------------------------------------------------

/// A mainland China mobile number, normalised to 11 ASCII digits
/// (`1[3-9]` followed by 9 digits).
///
/// `Debug` is masked. Serialises as the 11-digit string and is re-validated
/// when deserialised.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MobileNumber(String);

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MobileNumber").field(&self.masked()).finish()
    }
}

impl TryFrom<String> for MobileNumber {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        MobileNumber::parse(&s)
    }
}

impl From<MobileNumber> for String {
    fn from(m: MobileNumber) -> String {
        m.0
    }
}

impl MobileNumber {
    /// Parses a number as typed.
    ///
    /// Surrounding whitespace is trimmed. Spaces (incl. the ideographic space)
    /// and hyphens anywhere are ignored, full-width digits and `＋` are
    /// folded. An optional country prefix `+86`, `0086` or `86` is removed
    /// (`86` and `0086` only when 11 digits follow). `+` is allowed only as
    /// the first character, and `+` with another country code is `NotMobile`.
    pub fn parse(input: &str) -> Result<Self, IdentityError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(IdentityError::Empty);
        }
        let mut plus = false;
        let mut digits = String::with_capacity(16);
        for (position, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '\u{FF10}'..='\u{FF19}' => {
                    digits.push(char::from(b'0' + (u32::from(c) - 0xFF10) as u8))
                }
                '+' | '\u{FF0B}' if position == 0 => plus = true,
                ' ' | '\u{3000}' | '\u{00A0}' | '-' | '\u{2010}' | '\u{2011}' | '\u{2012}'
                | '\u{2013}' | '\u{FF0D}' => {}
                _ => return Err(IdentityError::InvalidCharacter { position }),
            }
        }
        let national = if plus {
            digits.strip_prefix("86").ok_or(IdentityError::NotMobile)?
        } else if digits.len() == 15 && digits.starts_with("0086") {
            digits.get(4..).unwrap_or_default()
        } else if digits.len() == 13 && digits.starts_with("86") {
            digits.get(2..).unwrap_or_default()
        } else {
            digits.as_str()
        };
        if national.len() != 11 {
            return Err(IdentityError::MobileLength {
                digits: national.len(),
            });
        }
        let b = national.as_bytes();
        if b.first() != Some(&b'1') || !matches!(b.get(1), Some(b'3'..=b'9')) {
            return Err(IdentityError::NotMobile);
        }
        Ok(MobileNumber(national.to_owned()))
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Masked for display: first 3 and last 4 digits kept, e.g. `138****1234`.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// The writing system of a [`PersonName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum NameScript {
    /// Chinese characters, optionally with middle dots (`·`).
    Chinese,
    /// Latin letters with single spaces, hyphens or apostrophes.
    Latin,
}

/// A validated, normalised personal name.
///
/// Two shapes are accepted (never mixed):
///
/// * **Chinese**: CJK unified ideographs (the basic block, Extension A, the
///   twelve unified ideographs in the compatibility block, and the
///   supplementary ideographic planes 2 and 3 — Extension B onwards — except
///   the compatibility supplement), with the middle dot `·` (U+00B7) between
///   parts of minority or transliterated names. The look-alikes `・` U+30FB,
///   `•` U+2022, `．` U+FF0E, `‧` U+2027, `･` U+FF65 and the ASCII full stop
///   `.` are normalised to U+00B7. No dot at the start or end and no two dots
///   in a row; no spaces.
/// * **Latin**: letters (ASCII, Latin-1 and Latin Extended-A/B; full-width
///   letters are folded to ASCII) with single spaces, hyphens or apostrophes
///   (`’` becomes `'`) between letters; case is kept as typed. Decomposed
///   accents (combining marks) are rejected: precomposed letters only.
///
/// Digits, emoji, punctuation and control characters are rejected. Length is
/// 1–30 characters after trimming surrounding whitespace.
///
/// `Debug` is masked. Serialises as the normalised string and is re-validated
/// when deserialised.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName {
    name: String,
    #[serde(skip)]
    script: NameScript,
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PersonName").field(&self.masked()).finish()
    }
}

impl TryFrom<String> for PersonName {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PersonName::parse(&s)
    }
}

impl From<PersonName> for String {
    fn from(n: PersonName) -> String {
        n.name
    }
}

#[derive(Clone, Copy)]
enum NameChar {
    Han(char),
    Latin(char),
    Dot,
    Space,
    Joiner(char),
    Other,
}

fn is_han(c: char) -> bool {
    matches!(
        u32::from(c),
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0xFA0E
            | 0xFA0F
            | 0xFA11
            | 0xFA13
            | 0xFA14
            | 0xFA1F
            | 0xFA21
            | 0xFA23
            | 0xFA24
            | 0xFA27..=0xFA29
            | 0x20000..=0x2F7FF
            | 0x2FA20..=0x2FFFD
            | 0x30000..=0x3FFFD
    )
}

fn classify_name_char(c: char) -> NameChar {
    match c {
        c if is_han(c) => NameChar::Han(c),
        'A'..='Z' | 'a'..='z' => NameChar::Latin(c),
        '\u{FF21}'..='\u{FF3A}' => {
            NameChar::Latin(char::from(b'A' + (u32::from(c) - 0xFF21) as u8))
        }
        '\u{FF41}'..='\u{FF5A}' => {
            NameChar::Latin(char::from(b'a' + (u32::from(c) - 0xFF41) as u8))
        }
        '\u{00D7}' | '\u{00F7}' => NameChar::Other,
        '\u{00C0}'..='\u{024F}' if c.is_alphabetic() => NameChar::Latin(c),
        '\u{00B7}' | '\u{30FB}' | '\u{2022}' | '\u{FF0E}' | '\u{2027}' | '\u{FF65}' | '.' => {
            NameChar::Dot
        }
        ' ' | '\u{3000}' | '\u{00A0}' => NameChar::Space,
        '-' | '\u{2010}' | '\u{2011}' | '\u{FF0D}' => NameChar::Joiner('-'),
        '\'' | '\u{2019}' | '\u{FF07}' => NameChar::Joiner('\''),
        _ => NameChar::Other,
    }
}

/// Common two-character compound surnames (复姓), simplified and traditional,
/// kept whole by [`PersonName::masked`].
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "歐陽", "司马", "司馬", "诸葛", "諸葛", "上官", "东方", "東方", "皇甫", "尉迟", "尉遲",
    "公孙", "公孫", "慕容", "长孙", "長孫", "宇文", "司徒", "司空", "夏侯", "轩辕", "軒轅", "令狐",
    "端木", "独孤", "獨孤", "南宫", "南宮", "西门", "西門", "百里", "呼延", "澹台", "澹臺", "申屠",
    "太史", "钟离", "鍾離", "闻人", "聞人", "万俟", "赫连", "赫連", "拓跋", "东郭", "東郭", "公冶",
    "宗政", "濮阳", "濮陽", "淳于",
];

impl PersonName {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 30;

    /// Parses and normalises a name as typed (see the type docs for the rules).
    pub fn parse(input: &str) -> Result<Self, IdentityError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(IdentityError::Empty);
        }
        let len = trimmed.chars().count();
        if len > Self::MAX_CHARS {
            return Err(IdentityError::NameLength {
                len,
                max: Self::MAX_CHARS,
            });
        }
        let mut has_han = false;
        let mut has_latin = false;
        for (position, c) in trimmed.chars().enumerate() {
            match classify_name_char(c) {
                NameChar::Han(_) => has_han = true,
                NameChar::Latin(_) => has_latin = true,
                NameChar::Other => return Err(IdentityError::InvalidCharacter { position }),
                _ => {}
            }
        }
        if has_han && has_latin {
            return Err(IdentityError::MixedScript);
        }
        let script = if has_latin {
            NameScript::Latin
        } else {
            NameScript::Chinese
        };
        let mut name = String::with_capacity(trimmed.len());
        // Whether the previous character was a letter / ideograph.
        let mut prev_letter = false;
        for (position, c) in trimmed.chars().enumerate() {
            let class = classify_name_char(c);
            match (script, class) {
                (_, NameChar::Han(c) | NameChar::Latin(c)) => {
                    name.push(c);
                    prev_letter = true;
                    continue;
                }
                (NameScript::Chinese, NameChar::Dot) => {
                    if !prev_letter || position + 1 == len {
                        return Err(IdentityError::MisplacedDot { position });
                    }
                    name.push('\u{00B7}');
                }
                (NameScript::Chinese, NameChar::Space) => {
                    return Err(IdentityError::InnerWhitespace { position })
                }
                (NameScript::Latin, NameChar::Space | NameChar::Joiner(_)) => {
                    if !prev_letter || position + 1 == len {
                        return Err(IdentityError::MisplacedSeparator { position });
                    }
                    name.push(match class {
                        NameChar::Joiner(j) => j,
                        _ => ' ',
                    });
                }
                _ => return Err(IdentityError::InvalidCharacter { position }),
            }
            prev_letter = false;
        }
        Ok(PersonName { name, script })
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Chinese or Latin.
    pub fn script(&self) -> NameScript {
        self.script
    }

    /// Masked for display: the surname is kept and every other letter becomes
    /// `*`; middle dots, spaces, hyphens and apostrophes are kept.
    ///
    /// The surname is the first character, except that a Chinese name of 3
    /// or more characters without a middle dot that starts with a common
    /// two-character compound surname (欧阳, 司马, 诸葛, …) keeps both:
    /// `张三` → `张*`, `欧阳娜娜` → `欧阳**`, `阿依古丽·买买提` →
    /// `阿***·***`, `John Smith` → `J*** *****`. A one-character name is
    /// returned as is.
    pub fn masked(&self) -> String {
        let chars = self.name.chars().count();
        let compound = self.script == NameScript::Chinese
            && chars >= 3
            && !self.name.contains('\u{00B7}')
            && COMPOUND_SURNAMES.iter().any(|s| self.name.starts_with(s));
        let keep = if compound { 2 } else { 1 };
        self.name
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i < keep || matches!(c, '\u{00B7}' | ' ' | '-' | '\'') {
                    c
                } else {
                    '*'
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Subject references
// ---------------------------------------------------------------------------

/// Domain-separation label of [`SubjectReference::derive`].
pub const SUBJECT_LABEL: &[u8] = b"lifecert/subject/v1";

/// The integrator's secret for deriving [`SubjectReference`]s: at least
/// [`SubjectKey::MIN_LEN`] bytes, ideally 32 uniformly random bytes from the
/// platform keystore.
///
/// The bytes are copied into a buffer that is zeroised on drop (zeroise your
/// own copy). `Debug` never shows them, and the type is not `Clone`.
///
/// Limitation: each derivation builds a `ring::hmac::Key`, whose internal
/// (pre-hashed) state ring does not zeroise; it lives only for the call.
pub struct SubjectKey {
    bytes: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectKey(<redacted>)")
    }
}

impl SubjectKey {
    /// Minimum key length in bytes.
    pub const MIN_LEN: usize = 32;

    /// Copies `bytes` into a new key. `KeyTooShort` below [`Self::MIN_LEN`].
    pub fn new(bytes: &[u8]) -> Result<Self, IdentityError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(IdentityError::KeyTooShort {
                len: bytes.len(),
                min: Self::MIN_LEN,
            });
        }
        Ok(SubjectKey {
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    fn hmac_key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, &self.bytes)
    }
}

/// A keyed pseudonym for a person: `HMAC-SHA256(key, "lifecert/subject/v1"
/// || 0x00 || the normalised 18-character ID number)`, 32 bytes.
///
/// Legacy 15-digit numbers are upgraded with [`IdNumber::to_18`] first, so
/// both forms of one person's number give the same reference. Without the
/// key the reference cannot be linked back to a number (ID numbers are
/// guessable, so the key is what protects them: keep it secret).
///
/// Text and serde form: 64 lower-case hex digits (upper case is accepted when
/// parsing). `==` is constant-time (see [`SubjectReference::ct_eq`]); `Hash`
/// hashes the bytes, so references can key a `HashMap`.
#[derive(Clone, Copy)]
pub struct SubjectReference([u8; 32]);

/// Fixed key for the double-HMAC comparison in [`SubjectReference::ct_eq`].
const COMPARE_KEY: &[u8] = b"lifecert/subject-compare/v1";

impl SubjectReference {
    /// Derives the reference of `id` under `key`.
    pub fn derive(key: &SubjectKey, id: &IdNumber) -> Self {
        let id18 = id.to_18();
        let mut ctx = hmac::Context::with_key(&key.hmac_key());
        ctx.update(SUBJECT_LABEL);
        ctx.update(&[0]);
        ctx.update(id18.as_str().as_bytes());
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        for (o, t) in out.iter_mut().zip(tag.as_ref()) {
            *o = *t;
        }
        SubjectReference(out)
    }

    /// Whether this reference was derived from `id` under `key`, checked with
    /// `ring::hmac::verify` (constant-time).
    pub fn matches(&self, key: &SubjectKey, id: &IdNumber) -> bool {
        let id18 = id.to_18();
        let mut msg = Zeroizing::new(Vec::with_capacity(SUBJECT_LABEL.len() + 1 + 18));
        msg.extend_from_slice(SUBJECT_LABEL);
        msg.push(0);
        msg.extend_from_slice(id18.as_str().as_bytes());
        hmac::verify(&key.hmac_key(), &msg, &self.0).is_ok()
    }

    /// Constant-time equality.
    ///
    /// `ring::constant_time` is deprecated (ring 0.17.14 makes "no promises
    /// regarding side channels" for it), so this uses the double-HMAC
    /// construction: it computes `HMAC(k, self)` and checks it against
    /// `other` with `ring::hmac::verify`, whose tag comparison ring documents
    /// as constant-time. Even a timing leak in that comparison would only
    /// reveal bits of an HMAC of `self`, which cannot be steered byte by byte.
    pub fn ct_eq(&self, other: &SubjectReference) -> bool {
        let key = hmac::Key::new(hmac::HMAC_SHA256, COMPARE_KEY);
        let tag = hmac::sign(&key, &self.0);
        hmac::verify(&key, &other.0, tag.as_ref()).is_ok()
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From 32 bytes (e.g. read back from storage).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SubjectReference(bytes)
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        s
    }

    /// Parses 64 hex digits (either case). `InvalidReference` otherwise.
    pub fn from_hex(hex: &str) -> Result<Self, IdentityError> {
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            }
        }
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(IdentityError::InvalidReference);
        }
        let mut out = [0u8; 32];
        for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let (hi, lo) = match pair {
                [hi, lo] => (nibble(*hi), nibble(*lo)),
                _ => (None, None),
            };
            *o = (hi.ok_or(IdentityError::InvalidReference)? << 4)
                | lo.ok_or(IdentityError::InvalidReference)?;
        }
        Ok(SubjectReference(out))
    }
}

impl PartialEq for SubjectReference {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other)
    }
}

impl Eq for SubjectReference {}

impl Hash for SubjectReference {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for SubjectReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SubjectReference")
            .field(&self.to_hex())
            .finish()
    }
}

impl fmt::Display for SubjectReference {
    /// 64 lower-case hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for SubjectReference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for SubjectReference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        SubjectReference::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// The person a session is about, from what was typed: the checked name and the
/// [`SubjectReference`] of the ID number. This is the one derivation of a subject from a
/// name and an ID number; enrollment and certification both use it.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The name, checked ([`PersonName::parse`]).
    pub name: PersonName,
    /// The keyed pseudonym of the ID number ([`SubjectReference::derive`]).
    pub reference: SubjectReference,
}

impl Subject {
    /// Checks `name` and `id_number` (a birth date after today, China Standard Time at
    /// `now_unix`, is refused) and derives the reference under `key`.
    ///
    /// Errors: a refused name or ID number; [`IdentityError::InvalidDate`] (all zero) when
    /// `now_unix` is beyond the calendar.
    pub fn identify(
        key: &SubjectKey,
        name: &str,
        id_number: &str,
        now_unix: u64,
    ) -> Result<Self, IdentityError> {
        let name = PersonName::parse(name)?;
        let today = Date::from_unix_china(now_unix).ok_or(IdentityError::InvalidDate {
            year: 0,
            month: 0,
            day: 0,
        })?;
        let id = IdNumber::parse(id_number, today)?;
        Ok(Self {
            name,
            reference: SubjectReference::derive(key, &id),
        })
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::new(2025, 6, 1).unwrap()
    }

    #[test]
    fn dates_from_unix_time_in_china() {
        let d = |y, m, day| Some(Date::new(y, m, day).unwrap());
        assert_eq!(Date::from_unix_china(0), d(1970, 1, 1));
        assert_eq!(Date::from_unix_china(951_753_599), d(2000, 2, 28));
        assert_eq!(Date::from_unix_china(951_753_600), d(2000, 2, 29));
        // 2024-02-29 16:00 UTC is already 1 March in Beijing.
        assert_eq!(Date::from_unix_china(1_709_222_399), d(2024, 2, 29));
        assert_eq!(Date::from_unix_china(1_709_222_400), d(2024, 3, 1));
        assert_eq!(Date::from_unix_china(1_796_140_800), d(2026, 12, 2));
        // The last second of 9999 in China, and beyond: no date, never a wrapped one.
        assert_eq!(Date::from_unix_china(253_402_271_999), d(9999, 12, 31));
        assert_eq!(Date::from_unix_china(253_402_272_000), None);
        assert_eq!(Date::from_unix_china(u64::MAX), None);
        assert_eq!(Date::from_unix_china(u64::MAX - 8 * 3600 + 1), None);
    }

    /// Appends the correct check character to 17 digits.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", mod11_2_check_character(first17).unwrap())
    }

    /// Appends a wrong check character to 17 digits.
    fn with_wrong_check(first17: &str) -> String {
        let good = mod11_2_check_character(first17).unwrap();
        let bad = if good == '0' { '1' } else { '0' };
        format!("{first17}{bad}")
    }

    fn parse(s: &str) -> Result<IdNumber, IdentityError> {
        IdNumber::parse(s, today())
    }

    // --- dates ---

    #[test]
    fn dates() {
        assert!(Date::new(2000, 2, 29).is_ok());
        assert!(Date::new(2024, 2, 29).is_ok());
        assert!(Date::new(1900, 2, 29).is_err());
        assert!(Date::new(2023, 2, 29).is_err());
        assert!(Date::new(2023, 4, 31).is_err());
        assert!(Date::new(2023, 13, 1).is_err());
        assert!(Date::new(2023, 0, 1).is_err());
        assert!(Date::new(2023, 1, 0).is_err());
        assert!(Date::new(0, 1, 1).is_err());
        assert_eq!(
            Date::new(2023, 2, 30),
            Err(IdentityError::InvalidDate {
                year: 2023,
                month: 2,
                day: 30
            })
        );
        assert!(Date::new(2023, 12, 31).unwrap() < Date::new(2024, 1, 1).unwrap());
        assert_eq!(Date::new(1949, 10, 1).unwrap().to_string(), "1949-10-01");
        let json = serde_json::to_string(&Date::new(2024, 2, 29).unwrap()).unwrap();
        assert_eq!(json, r#"{"year":2024,"month":2,"day":29}"#);
        assert!(serde_json::from_str::<Date>(r#"{"year":2023,"month":2,"day":29}"#).is_err());
    }

    // --- ID numbers ---

    #[test]
    fn well_known_example() {
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(id.kind(), IdKind::MainlandResident);
        assert_eq!(id.birth_date(), Date::new(1949, 12, 31).unwrap());
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.region_code(), 110105);
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(mod11_2_check_character("11010519491231002"), Ok('X'));
    }

    #[test]
    fn constructed_valid_numbers() {
        for (first17, date, sex) in [
            ("44030419800229123", (1980, 2, 29), Sex::Male),
            ("31010120000229002", (2000, 2, 29), Sex::Female),
            ("65010218500101001", (1850, 1, 1), Sex::Male),
            ("51010219551001004", (1955, 10, 1), Sex::Female),
            ("71000019600101001", (1960, 1, 1), Sex::Male),
            ("11010120250601001", (2025, 6, 1), Sex::Male), // born today
        ] {
            let s = with_check(first17);
            let id = parse(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(id.kind(), IdKind::MainlandResident);
            assert_eq!(id.birth_date(), Date::new(date.0, date.1, date.2).unwrap());
            assert_eq!(id.sex(), sex);
            assert_eq!(id.as_str(), s);
        }
        // Every check character value, including 'X', round-trips.
        let mut seen = std::collections::BTreeSet::new();
        for seq in 0..200 {
            let s = with_check(&format!("32010219700101{seq:03}"));
            seen.insert(s.chars().last().unwrap());
            assert!(parse(&s).is_ok(), "{s}");
        }
        assert_eq!(seen.len(), 11);
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            parse("  11010519491231002x \n").unwrap().as_str(),
            "11010519491231002X"
        );
        // Full-width digits and Ｘ from a Chinese input method.
        assert_eq!(
            parse("１１０１０５１９４９１２３１００２Ｘ")
                .unwrap()
                .as_str(),
            "11010519491231002X"
        );
        assert_eq!(
            parse("110105 19491231002X"),
            Err(IdentityError::InnerWhitespace { position: 6 })
        );
    }

    #[test]
    fn invalid_numbers() {
        assert_eq!(parse(""), Err(IdentityError::Empty));
        assert_eq!(parse("   "), Err(IdentityError::Empty));
        assert_eq!(
            parse("11010519491231002"),
            Err(IdentityError::InvalidLength { len: 17 })
        );
        assert_eq!(
            parse("11010519491231002X1"),
            Err(IdentityError::InvalidLength { len: 19 })
        );
        assert_eq!(
            parse("1101051949123100"),
            Err(IdentityError::InvalidLength { len: 16 })
        );
        assert_eq!(
            parse(&"1".repeat(1000)),
            Err(IdentityError::InvalidLength { len: 1000 })
        );
        assert_eq!(
            parse("1101051949123100AX"),
            Err(IdentityError::InvalidCharacter { position: 16 })
        );
        assert_eq!(
            parse("11010519491231002Y"),
            Err(IdentityError::InvalidCharacter { position: 17 })
        );
        // X anywhere but the last position of an 18-character number.
        assert_eq!(
            parse("1101051949123100X2"),
            Err(IdentityError::InvalidCharacter { position: 16 })
        );
        assert_eq!(
            parse("11010549123100X"),
            Err(IdentityError::InvalidCharacter { position: 14 })
        );
        assert_eq!(
            parse("11010519491231002１"),
            Err(IdentityError::BadCheckCharacter)
        );
        // Bad regions.
        for region in ["000000", "100000", "160000", "240000", "380000", "470000"] {
            let s = with_check(&format!("{region}19600101001"));
            assert_eq!(parse(&s), Err(IdentityError::UnknownRegion), "{s}");
        }
        for region in [
            "550000", "660000", "720000", "800000", "830100", "840000", "990000",
        ] {
            let s = with_check(&format!("{region}19600101001"));
            assert_eq!(parse(&s), Err(IdentityError::UnknownRegion), "{s}");
        }
        // Impossible dates.
        for date in [
            "19700230", "19000229", "20230229", "19701301", "19700001", "19700100", "19700431",
        ] {
            let s = with_check(&format!("110105{date}001"));
            assert_eq!(parse(&s), Err(IdentityError::InvalidBirthDate), "{s}");
        }
        // Future and too early.
        let s = with_check("11010520250602001");
        assert_eq!(parse(&s), Err(IdentityError::BirthDateInFuture));
        let s = with_check("11010518491231001");
        assert_eq!(parse(&s), Err(IdentityError::BirthDateTooEarly));
        // Bad check character.
        let s = with_wrong_check("11010519491231002");
        assert_eq!(parse(&s), Err(IdentityError::BadCheckCharacter));
        assert_eq!(
            parse("110105194912310021"),
            Err(IdentityError::BadCheckCharacter)
        );
        // Non-ASCII letters and punctuation.
        assert_eq!(
            parse("11010519491231002×"),
            Err(IdentityError::InvalidCharacter { position: 17 })
        );
        assert_eq!(
            parse("110105-1949123100"),
            Err(IdentityError::InvalidCharacter { position: 6 })
        );
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        let good = "11010519491231002X";
        for i in 0..18 {
            for d in b"0123456789X" {
                let mut bytes = good.as_bytes().to_vec();
                if bytes[i] == *d {
                    continue;
                }
                bytes[i] = *d;
                let s = String::from_utf8(bytes).unwrap();
                assert!(parse(&s).is_err(), "{s} accepted");
            }
        }
    }

    #[test]
    fn legacy_15_and_upgrade() {
        let id = parse("110105491231002").unwrap();
        assert_eq!(id.kind(), IdKind::MainlandResidentLegacy15);
        assert!(id.is_legacy());
        assert_eq!(id.birth_date(), Date::new(1949, 12, 31).unwrap());
        assert_eq!(id.sex(), Sex::Female);
        let up = id.to_18();
        assert_eq!(up.as_str(), "11010519491231002X");
        assert_eq!(up.kind(), IdKind::MainlandResident);
        assert_eq!(up, parse("11010519491231002X").unwrap());
        // An 18-character number upgrades to itself.
        assert_eq!(up.to_18(), up);

        let id = parse("440304800229123").unwrap();
        assert_eq!(id.birth_date(), Date::new(1980, 2, 29).unwrap());
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.to_18().as_str(), with_check("44030419800229123"));

        assert_eq!(
            parse("110105490230002"),
            Err(IdentityError::InvalidBirthDate)
        );
        // 1900 was not a leap year.
        assert_eq!(
            parse("110105000229002"),
            Err(IdentityError::InvalidBirthDate)
        );
        assert_eq!(parse("000105491231002"), Err(IdentityError::UnknownRegion));
        // A 15-digit number is always 19xx, so never in the future today.
        assert!(parse("110105991231001").is_ok());
        let early_today = Date::new(1990, 1, 1).unwrap();
        assert_eq!(
            IdNumber::parse("110105991231001", early_today),
            Err(IdentityError::BirthDateInFuture)
        );
    }

    #[test]
    fn residence_permits() {
        for (region, kind) in [
            ("810000", IdKind::HongKongResidencePermit),
            ("820000", IdKind::MacaoResidencePermit),
            ("830000", IdKind::TaiwanResidencePermit),
        ] {
            let s = with_check(&format!("{region}19700101003"));
            let id = parse(&s).unwrap();
            assert_eq!(id.kind(), kind);
            assert_eq!(id.sex(), Sex::Male);
            assert_eq!(id.birth_date(), Date::new(1970, 1, 1).unwrap());
            assert_eq!(id.region_code(), region.parse::<u32>().unwrap());
            let bad = with_wrong_check(&format!("{region}19700101003"));
            assert_eq!(parse(&bad), Err(IdentityError::BadCheckCharacter));
            let bad = with_check(&format!("{region}19700229003"));
            assert_eq!(parse(&bad), Err(IdentityError::InvalidBirthDate));
        }
        // 83 only exists as the permit prefix 830000.
        let s = with_check("83010119700101003");
        assert_eq!(parse(&s), Err(IdentityError::UnknownRegion));
        // 81/82 are real province-level codes (GB/T 2260) otherwise.
        let s = with_check("81010119700101003");
        assert_eq!(parse(&s).unwrap().kind(), IdKind::MainlandResident);
    }

    #[test]
    fn id_masking() {
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "110***********002X");
        assert_eq!(id.masked().len(), 18);
        let legacy = parse("110105491231002").unwrap();
        assert_eq!(legacy.masked(), "110*********002");
        let dbg = format!("{id:?}");
        assert!(dbg.contains("110***********002X"), "{dbg}");
        assert!(!dbg.contains("19491231"), "{dbg}");
    }

    #[test]
    fn age() {
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(id.age_on(Date::new(2025, 6, 1).unwrap()), Ok(75));
        assert_eq!(id.age_on(Date::new(2025, 12, 31).unwrap()), Ok(76));
        assert_eq!(id.age_on(Date::new(1949, 12, 31).unwrap()), Ok(0));
        assert_eq!(
            id.age_on(Date::new(1949, 12, 30).unwrap()),
            Err(IdentityError::DateBeforeBirth)
        );
        let leapling = parse(&with_check("44030419800229123")).unwrap();
        assert_eq!(leapling.age_on(Date::new(2021, 2, 28).unwrap()), Ok(40));
        assert_eq!(leapling.age_on(Date::new(2021, 3, 1).unwrap()), Ok(41));
    }

    #[test]
    fn check_character_helper_errors() {
        assert_eq!(
            mod11_2_check_character("1101051949123100"),
            Err(IdentityError::InvalidLength { len: 16 })
        );
        assert_eq!(
            mod11_2_check_character("1101051949123100a"),
            Err(IdentityError::InvalidCharacter { position: 16 })
        );
        assert_eq!(
            mod11_2_check_character("１1010519491231002"),
            Err(IdentityError::InvalidCharacter { position: 0 })
        );
    }

    // --- mobile numbers ---

    #[test]
    fn mobile_variants() {
        for input in [
            "13812341234",
            " 138 1234 1234 ",
            "138-1234-1234",
            "+86 138 1234 1234",
            "+8613812341234",
            "+86-138-1234-1234",
            "008613812341234",
            "0086 138 1234 1234",
            "8613812341234",
            "86 13812341234",
            "１３８１２３４１２３４",
            "＋86 138　1234　1234",
        ] {
            let m = MobileNumber::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(m.as_str(), "13812341234", "{input:?}");
        }
        for prefix in 3..=9 {
            assert!(MobileNumber::parse(&format!("1{prefix}012345678")).is_ok());
        }
    }

    #[test]
    fn mobile_rejections() {
        use IdentityError::*;
        assert_eq!(MobileNumber::parse(""), Err(Empty));
        assert_eq!(
            MobileNumber::parse("1381234123"),
            Err(MobileLength { digits: 10 })
        );
        assert_eq!(
            MobileNumber::parse("138123412345"),
            Err(MobileLength { digits: 12 })
        );
        assert_eq!(MobileNumber::parse("12812341234"), Err(NotMobile));
        assert_eq!(MobileNumber::parse("10812341234"), Err(NotMobile));
        assert_eq!(MobileNumber::parse("23812341234"), Err(NotMobile));
        assert_eq!(MobileNumber::parse("+1 415 555 0100"), Err(NotMobile));
        assert_eq!(
            MobileNumber::parse("+86 1381234123"),
            Err(MobileLength { digits: 10 })
        );
        assert_eq!(
            MobileNumber::parse("138 1234 123a"),
            Err(InvalidCharacter { position: 12 })
        );
        assert_eq!(
            MobileNumber::parse("138+12341234"),
            Err(InvalidCharacter { position: 3 })
        );
        assert_eq!(
            MobileNumber::parse("(138)12341234"),
            Err(InvalidCharacter { position: 0 })
        );
        // Landline with area code.
        assert_eq!(MobileNumber::parse("010-62345678"), Err(NotMobile));
    }

    #[test]
    fn mobile_masking_and_serde() {
        let m = MobileNumber::parse("+86 138 1234 5678").unwrap();
        assert_eq!(m.masked(), "138****5678");
        assert_eq!(format!("{m:?}"), r#"MobileNumber("138****5678")"#);
        assert_eq!(serde_json::to_string(&m).unwrap(), r#""13812345678""#);
        let back: MobileNumber = serde_json::from_str(r#""13812345678""#).unwrap();
        assert_eq!(back, m);
        assert!(serde_json::from_str::<MobileNumber>(r#""12812345678""#).is_err());
    }

    // --- names ---

    #[test]
    fn chinese_names() {
        for (input, expected) in [
            ("张三", "张三"),
            ("欧阳娜娜", "欧阳娜娜"),
            ("阿依古丽·买买提", "阿依古丽·买买提"),
            ("  王小明 ", "王小明"),
            ("阿依古丽・买买提", "阿依古丽·买买提"),
            ("阿依古丽•买买提", "阿依古丽·买买提"),
            ("阿依古丽．买买提", "阿依古丽·买买提"),
            ("阿依古丽‧买买提", "阿依古丽·买买提"),
            ("阿依古丽.买买提", "阿依古丽·买买提"),
            ("爱新觉罗·溥仪", "爱新觉罗·溥仪"),
            ("让·保罗·萨特", "让·保罗·萨特"),
            ("䶮", "䶮"),     // Extension A
            ("王𠀀", "王𠀀"), // Extension B
            ("陈﨑", "陈﨑"), // unified ideograph in the compatibility block
            ("張偉", "張偉"), // traditional
        ] {
            let n = PersonName::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(n.as_str(), expected, "{input:?}");
            assert_eq!(n.script(), NameScript::Chinese);
        }
        assert!(PersonName::parse(&"张".repeat(30)).is_ok());
    }

    #[test]
    fn latin_names() {
        for (input, expected) in [
            ("John Smith", "John Smith"),
            ("  Chan Tai Man  ", "Chan Tai Man"),
            ("Jean-Pierre O’Brien", "Jean-Pierre O'Brien"),
            ("José Müller", "José Müller"),
            ("ＪＯＨＮ　ｓｍｉｔｈ", "JOHN smith"),
            ("X", "X"),
        ] {
            let n = PersonName::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(n.as_str(), expected, "{input:?}");
            assert_eq!(n.script(), NameScript::Latin);
        }
    }

    #[test]
    fn rejected_names() {
        use IdentityError::*;
        let cases: &[(&str, IdentityError)] = &[
            ("", Empty),
            ("  \t ", Empty),
            ("张三1", InvalidCharacter { position: 2 }),
            ("张三😀", InvalidCharacter { position: 2 }),
            ("张\u{0007}三", InvalidCharacter { position: 1 }),
            ("John\tSmith", InvalidCharacter { position: 4 }),
            ("John\nSmith", InvalidCharacter { position: 4 }),
            ("Jose\u{0301}", InvalidCharacter { position: 4 }),
            ("R2D2", InvalidCharacter { position: 1 }),
            ("张三!", InvalidCharacter { position: 2 }),
            ("Иван", InvalidCharacter { position: 0 }),
            ("김철수", InvalidCharacter { position: 0 }),
            ("张三John", MixedScript),
            ("阿依古丽·Maimaiti", MixedScript),
            ("·买买提", MisplacedDot { position: 0 }),
            ("阿依古丽·", MisplacedDot { position: 4 }),
            ("阿依古丽··买买提", MisplacedDot { position: 5 }),
            ("阿依古丽·・买买提", MisplacedDot { position: 5 }),
            ("·", MisplacedDot { position: 0 }),
            ("张 三", InnerWhitespace { position: 1 }),
            ("阿依古丽 · 买买提", InnerWhitespace { position: 4 }),
            ("John  Smith", MisplacedSeparator { position: 5 }),
            ("-John", MisplacedSeparator { position: 0 }),
            ("John-", MisplacedSeparator { position: 4 }),
            ("John -Smith", MisplacedSeparator { position: 5 }),
            ("J. Smith", InvalidCharacter { position: 1 }),
            ("John·Smith", InvalidCharacter { position: 4 }),
            ("张-三", InvalidCharacter { position: 1 }),
            ("-", InvalidCharacter { position: 0 }),
        ];
        for (input, expected) in cases {
            assert_eq!(
                PersonName::parse(input).as_ref(),
                Err(expected),
                "{input:?}"
            );
        }
        assert_eq!(
            PersonName::parse(&"张".repeat(31)),
            Err(NameLength { len: 31, max: 30 })
        );
    }

    #[test]
    fn name_masking() {
        for (input, masked) in [
            ("张三", "张*"),
            ("王小明", "王**"),
            ("欧阳娜娜", "欧阳**"),
            ("司马光", "司马*"),
            ("欧阳", "欧*"),
            ("阿依古丽·买买提", "阿***·***"),
            ("John Smith", "J*** *****"),
            ("Jean-Pierre", "J***-******"),
            ("张", "张"),
            ("王𠀀", "王*"),
        ] {
            let n = PersonName::parse(input).unwrap();
            assert_eq!(n.masked(), masked, "{input:?}");
            assert_eq!(n.masked().chars().count(), n.as_str().chars().count());
        }
        let n = PersonName::parse("欧阳娜娜").unwrap();
        assert_eq!(format!("{n:?}"), r#"PersonName("欧阳**")"#);
    }

    #[test]
    fn name_serde() {
        let n = PersonName::parse("阿依古丽・买买提").unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, r#""阿依古丽·买买提""#);
        let back: PersonName = serde_json::from_str(&json).unwrap();
        assert_eq!(back, n);
        assert_eq!(back.script(), NameScript::Chinese);
        assert!(serde_json::from_str::<PersonName>(r#""张三1""#).is_err());
    }

    // --- subject references ---

    fn key(fill: u8) -> SubjectKey {
        SubjectKey::new(&[fill; 32]).unwrap()
    }

    #[test]
    fn subject_key_rules() {
        assert_eq!(
            SubjectKey::new(&[0u8; 31]).unwrap_err(),
            IdentityError::KeyTooShort { len: 31, min: 32 }
        );
        assert!(SubjectKey::new(&[7u8; 64]).is_ok());
        let dbg = format!("{:?}", SubjectKey::new(&[0xAB; 32]).unwrap());
        assert_eq!(dbg, "SubjectKey(<redacted>)");
    }

    #[test]
    fn subject_references() {
        let id = parse("11010519491231002X").unwrap();
        let same = parse(" 11010519491231002x").unwrap();
        let legacy = parse("110105491231002").unwrap();
        let other = parse(&with_check("44030419800229123")).unwrap();
        let k1 = key(1);
        let k2 = key(2);

        let r = SubjectReference::derive(&k1, &id);
        assert_eq!(r, SubjectReference::derive(&k1, &same));
        assert_eq!(r, SubjectReference::derive(&k1, &legacy));
        assert_ne!(r, SubjectReference::derive(&k2, &id));
        assert_ne!(r, SubjectReference::derive(&k1, &other));
        assert!(r.matches(&k1, &id));
        assert!(r.matches(&k1, &legacy));
        assert!(!r.matches(&k2, &id));
        assert!(!r.matches(&k1, &other));

        // Known-answer: HMAC-SHA256 over label || 0x00 || ID, via ring directly.
        let raw = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &[1u8; 32]),
            b"lifecert/subject/v1\x0011010519491231002X",
        );
        assert_eq!(r.as_bytes().as_slice(), raw.as_ref());
    }

    #[test]
    fn a_subject_is_identified_from_the_typed_name_and_number() {
        // 2026-12-02 12:00 in Beijing.
        let now = 1_796_184_000;
        let k = key(1);
        let s = Subject::identify(&k, " 张三 ", " 11010519491231002x", now).unwrap();
        assert_eq!(s.name.as_str(), "张三");
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(s.reference, SubjectReference::derive(&k, &id));
        let legacy = Subject::identify(&k, "张三", "110105491231002", now).unwrap();
        assert_eq!(
            legacy.reference, s.reference,
            "both forms of a number: one subject"
        );

        let err =
            |name: &str, id: &str, now: u64| Subject::identify(&k, name, id, now).unwrap_err();
        assert!(matches!(
            err("", "11010519491231002X", now),
            IdentityError::Empty
        ));
        assert!(matches!(
            err("张三", &with_wrong_check("11010519491231002"), now),
            IdentityError::BadCheckCharacter
        ));
        // Born after "today": 2026-12-02 is fine, a day before it is not.
        let born_today = with_check("11010520261202002");
        assert!(Subject::identify(&k, "张三", &born_today, now).is_ok());
        assert!(matches!(
            err("张三", &born_today, now - 86_400),
            IdentityError::BirthDateInFuture
        ));
        assert_eq!(
            err("张三", "11010519491231002X", u64::MAX),
            IdentityError::InvalidDate {
                year: 0,
                month: 0,
                day: 0
            }
        );
    }

    #[test]
    fn subject_reference_encoding() {
        let r = SubjectReference::derive(&key(9), &parse("11010519491231002X").unwrap());
        let hex = r.to_hex();
        assert_eq!(hex.len(), 64);
        assert!(hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(SubjectReference::from_hex(&hex), Ok(r));
        assert_eq!(SubjectReference::from_hex(&hex.to_uppercase()), Ok(r));
        assert_eq!(r.to_string(), hex);
        assert_eq!(SubjectReference::from_bytes(*r.as_bytes()), r);

        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<SubjectReference>(&json).unwrap(), r);

        for bad in [
            "",
            "00",
            &hex[..63],
            &format!("{hex}0"),
            &format!("g{}", &hex[1..]),
        ] {
            assert_eq!(
                SubjectReference::from_hex(bad),
                Err(IdentityError::InvalidReference),
                "{bad:?}"
            );
        }
        assert_eq!(
            SubjectReference::from_hex("é".repeat(32).as_str()),
            Err(IdentityError::InvalidReference)
        );
        assert!(serde_json::from_str::<SubjectReference>("\"zz\"").is_err());

        let a = SubjectReference::from_bytes([0; 32]);
        let mut last_differs = [0; 32];
        last_differs[31] = 1;
        assert!(a.ct_eq(&a));
        assert!(!a.ct_eq(&SubjectReference::from_bytes(last_differs)));
        let set: std::collections::HashSet<_> = [a, a, r].into_iter().collect();
        assert_eq!(set.len(), 2);
    }
}
