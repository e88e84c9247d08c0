/*
 * Kernel peer credentials of a Unix domain socket, for the agent's workload attestation
 * (src/agent/peer.ts). Node has no API for SO_PEERCRED, so this is the one native piece:
 *
 *   peerCredentials(fd)  -> { pid, uid, gid }   the credentials the kernel recorded when the
 *                                                peer called connect(); never what it claims
 *   pidfdOpen(pid)       -> fd                   a pidfd naming that very process (Linux ≥ 5.3)
 *   peerPidfd(fd)        -> fd or -1             the peer's pidfd taken at connect() time by the
 *                                                kernel (SO_PEERPIDFD, Linux ≥ 6.5); -1 when the
 *                                                kernel has no such option
 *   pidfdAlive(pidfd)    -> boolean              false once the process has exited: its PID may
 *                                                then name another process
 *
 * Errors are thrown as JavaScript errors whose `code` is the errno name (EBADF, ENOTSOCK, ESRCH…).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#include <node_api.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char message[160];
  const char *name = strerrorname_np(err);
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, name != NULL ? name : "EUNKNOWN", message);
  return NULL;
}

static int int_arg(napi_env env, napi_callback_info info, int32_t *out) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, "EINVAL", "one integer argument expected");
    return 0;
  }
  if (napi_get_value_int32(env, argv[0], out) != napi_ok || *out < 0) {
    napi_throw_type_error(env, "EINVAL", "a non-negative integer expected");
    return 0;
  }
  return 1;
}

static napi_value set_int(napi_env env, napi_value obj, const char *key, int64_t v) {
  napi_value n;
  napi_create_int64(env, v, &n);
  napi_set_named_property(env, obj, key, n);
  return obj;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!int_arg(env, info, &fd)) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, errno, "getsockopt(SO_PEERCRED)");
  if (len != sizeof cred) return throw_errno(env, EPROTO, "getsockopt(SO_PEERCRED)");
  napi_value obj;
  napi_create_object(env, &obj);
  set_int(env, obj, "pid", cred.pid);
  set_int(env, obj, "uid", cred.uid);
  set_int(env, obj, "gid", cred.gid);
  return obj;
}

static napi_value peer_pidfd(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!int_arg(env, info, &fd)) return NULL;
  int pidfd = -1;
  socklen_t len = sizeof pidfd;
  napi_value out;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0) {
    /* An older kernel does not know the option: the caller falls back to pidfdOpen. */
    if (errno == ENOPROTOOPT || errno == EINVAL) {
      napi_create_int32(env, -1, &out);
      return out;
    }
    return throw_errno(env, errno, "getsockopt(SO_PEERPIDFD)");
  }
  napi_create_int32(env, pidfd, &out);
  return out;
}

static napi_value pidfd_open(napi_env env, napi_callback_info info) {
  int32_t pid;
  if (!int_arg(env, info, &pid)) return NULL;
  long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open");
  napi_value out;
  napi_create_int32(env, (int32_t)fd, &out);
  return out;
}

static napi_value pidfd_alive(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!int_arg(env, info, &fd)) return NULL;
  /* A pidfd polls readable once its process has exited. */
  struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
  int n;
  do n = poll(&p, 1, 0); while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno, "poll(pidfd)");
  if (p.revents & POLLNVAL) return throw_errno(env, EBADF, "poll(pidfd)");
  napi_value out;
  napi_get_boolean(env, n == 0, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "peerCredentials", NULL, peer_credentials, NULL, NULL, NULL, napi_enumerable, NULL },
    { "peerPidfd", NULL, peer_pidfd, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pidfdOpen", NULL, pidfd_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "pidfdAlive", NULL, pidfd_alive, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
