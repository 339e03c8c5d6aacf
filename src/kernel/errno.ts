/** Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h). Syscalls return -errno. */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const E2BIG = 7;
export const ENOEXEC = 8;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const ENOTTY = 25;
export const EINVAL = 22;
export const EMFILE = 24;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95;

export const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 7: "E2BIG", 8: "ENOEXEC", 9: "EBADF",
  10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 25: "ENOTTY", 22: "EINVAL", 24: "EMFILE", 38: "ENOSYS", 95: "EOPNOTSUPP",
};

/** "-ECHILD" for -10, the number itself for non-errors. */
export function errnoName(ret: number): string {
  return ret < 0 ? `-${ERRNO_NAMES[-ret] ?? `E${-ret}`}` : String(ret);
}

/** A broken internal rule: a bug in TaskLab, never a caller mistake (Linux BUG(), xv6 panic()). */
export class KernelPanic extends Error {
  constructor(what: string) {
    super(`kernel panic: ${what}`);
    this.name = "KernelPanic";
  }
}
