//! The `wildcard` filter: `*` matches any run of characters, `\*` a literal star and `\\` a
//! literal backslash. Compiled to tokens once so matching needs no regex engine.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GlobError {
    ConsecutiveStars,
    BadEscape,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    Star,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    pub(super) fn compile(text: &str) -> Result<Self, GlobError> {
        let mut tokens = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(escaped @ ('*' | '\\')) => tokens.push(Token::Literal(escaped)),
                    _ => return Err(GlobError::BadEscape),
                },
                '*' => {
                    if tokens.last() == Some(&Token::Star) {
                        return Err(GlobError::ConsecutiveStars);
                    }
                    tokens.push(Token::Star);
                }
                other => tokens.push(Token::Literal(other)),
            }
        }
        Ok(Self { tokens })
    }

    /// Greedy matching with one backtrack point (the last star), linear in practice.
    pub(super) fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let (mut t, mut c) = (0usize, 0usize);
        let mut backtrack: Option<(usize, usize)> = None;
        while c < chars.len() {
            match self.tokens.get(t) {
                Some(Token::Star) => {
                    backtrack = Some((t, c));
                    t += 1;
                }
                Some(Token::Literal(l)) if *l == chars[c] => {
                    t += 1;
                    c += 1;
                }
                _ => match backtrack {
                    Some((star, from)) => {
                        t = star + 1;
                        c = from + 1;
                        backtrack = Some((star, from + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[t..].iter().all(|token| *token == Token::Star)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_escapes_and_errors() {
        let g = Glob::compile("arn:*:function:*-prod").unwrap();
        assert!(g.matches("arn:aws:function:api-prod"));
        assert!(!g.matches("arn:aws:function:api-dev"));
        assert!(Glob::compile("a*").unwrap().matches("a"));
        assert!(Glob::compile(r"a\*b").unwrap().matches("a*b"));
        assert!(!Glob::compile(r"a\*b").unwrap().matches("axb"));
        assert_eq!(Glob::compile("a**"), Err(GlobError::ConsecutiveStars));
        assert_eq!(Glob::compile(r"a\b"), Err(GlobError::BadEscape));
        assert!(Glob::compile("").unwrap().matches(""));
        assert!(!Glob::compile("").unwrap().matches("x"));
    }
}
