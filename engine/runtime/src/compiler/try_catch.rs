//! try / catch and throw.

use super::*;

impl Compiler<'_> {
    pub(super) fn try_expr(
        &mut self,
        body: &Expr,
        catch: Option<&(Pattern, Expr)>,
        finally: Option<&Expr>,
        dst: Dst,
        span: Span,
    ) -> CResult<()> {
        let mark = self.mark();
        let err = self.alloc(span)?;
        let begin = self.emit(Op::TryBegin { err, off: 0 }, span);
        self.f().tries += 1;
        self.scoped(body, dst)?;
        self.f().tries -= 1;
        self.emit(Op::TryEnd, span);
        let done = self.emit(Op::Jump { off: 0 }, span);
        self.patch(begin);
        match (catch, finally) {
            (Some((pat, handler)), None) => {
                let mut fails = Vec::new();
                self.pattern_top(pat, err, &mut fails)?;
                if !fails.is_empty() {
                    // a catch pattern that does not match lets the error go on
                    let ok = self.emit(Op::Jump { off: 0 }, span);
                    fails.into_iter().for_each(|f| self.patch(f));
                    self.emit(Op::Rethrow { src: err }, span);
                    self.patch(ok);
                }
                self.scoped(handler, dst)?;
                self.patch(done);
            }
            (catch, Some(fin)) => {
                if let Some((pat, handler)) = catch {
                    // errors in the handler still run `finally`
                    let err2 = self.alloc(span)?;
                    let begin2 = self.emit(Op::TryBegin { err: err2, off: 0 }, span);
                    self.f().tries += 1;
                    let mut fails = Vec::new();
                    self.pattern_top(pat, err, &mut fails)?;
                    if !fails.is_empty() {
                        let ok = self.emit(Op::Jump { off: 0 }, span);
                        fails.into_iter().for_each(|f| self.patch(f));
                        self.emit(Op::Rethrow { src: err }, span);
                        self.patch(ok);
                    }
                    self.scoped(handler, dst)?;
                    self.f().tries -= 1;
                    self.emit(Op::TryEnd, span);
                    let done2 = self.emit(Op::Jump { off: 0 }, span);
                    self.patch(begin2);
                    self.emit(
                        Op::Move {
                            dst: err,
                            src: err2,
                        },
                        span,
                    );
                    // error path: finally, then the error goes on
                    self.scoped(fin, Dst::Discard)?;
                    self.emit(Op::Rethrow { src: err }, span);
                    self.patch(done2);
                } else {
                    self.scoped(fin, Dst::Discard)?;
                    self.emit(Op::Rethrow { src: err }, span);
                }
                self.patch(done);
                self.scoped(fin, Dst::Discard)?;
            }
            (None, None) => self.patch(done),
        }
        self.free_to(mark);
        Ok(())
    }
}
