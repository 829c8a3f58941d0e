/* The cleanlist executable: runs user scripts with the cleanlist module preloaded, and
 * serves the local API sandbox. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl_error.h"
#include "embed.h"
#include "lcl_compat.h"
#include "lualib.h"
#include "sandbox.h"
#if defined(CL_HAVE_EDITLINE)
#include <editline/readline.h>
#endif

int luaopen_cleanlist_core(lua_State *L);
int luaopen_cleanlist_curl(lua_State *L);
#ifdef CL_HAVE_REDIS
int luaopen_cleanlist_redis(lua_State *L);
#endif

static const char *progname = "cleanlist";

static const char usage_text[] =
    "usage: cleanlist [options] [script.lua [args...]]\n"
    "       cleanlist [options] run RECIPE [recipe options]   (cleanlist run RECIPE --help)\n"
    "       cleanlist recipes                      list the recipes and what each does\n"
    "       cleanlist --sandbox [sandbox flags] [options] [script.lua | run RECIPE ...]\n"
    "       cleanlist sandbox [sandbox options]   (see cleanlist sandbox --help)\n"
    "\n"
    "Runs a Lua script with the cleanlist module available (local cleanlist = require\n"
    "\"cleanlist\"), or a recipe by name: from the directories of CLEANLIST_RECIPES, then\n"
    "./recipes, then those built in. With no script: an interactive prompt on a terminal\n"
    "(with a ready `client` when CLEANLIST_API_KEY is set or --sandbox given), else the\n"
    "script is read from standard input. A script named run or recipes is run as ./run.\n"
    "\n"
    "options:\n"
    "  -e CODE        run CODE (may be repeated; runs before the script)\n"
    "  --sandbox      start a local sandbox of the API and point the client at it:\n"
    "                 CLEANLIST_BASE_URL and CLEANLIST_API_KEY are set for the script,\n"
    "                 and CLEANLIST_TIME_SCALE when the sandbox clock is not real time\n"
    "  -v, --version  print the version and exit\n"
    "  -h, --help     print this help and exit\n"
    "  --             stop handling options\n"
    "\n"
    "sandbox flags (after --sandbox, before the script; \"--flag V\" or \"--flag=V\"):\n"
    "  the flags of cleanlist sandbox --help, for the sandbox started for the script:\n"
    "  --time-scale X, --seed N, --rate-limit on|off, --rate-limit-key N,\n"
    "  --rate-limit-org N, --fault-rate P, --faults K1,K2,..., --stall-ms N,\n"
    "  --dribble-ms N, --workflow-fault normal|stuck|fail, --state FILE, --strict-quotes,\n"
    "  --strict, --api-key KEY (then CLEANLIST_API_KEY is KEY). That sandbox always listens\n"
    "  quietly on 127.0.0.1 on a free port: --port, --bind, --tls-cert, --tls-key and --quiet\n"
    "  are for cleanlist sandbox only.\n"
    "  example: cleanlist --sandbox --time-scale 600 script.lua\n"
    "\n"
    "environment:\n"
    "  CLEANLIST_API_KEY   the API key (clapi_...) used by cleanlist.new()\n"
    "  CLEANLIST_BASE_URL  the API base URL (default https://api.cleanlist.ai/api/v1/public)\n"
    "  CLEANLIST_LUA_DIR   load the cleanlist Lua sources from this directory instead of\n"
    "                      the copies built into the executable\n"
    "  CLEANLIST_TIME_SCALE  how much faster than real time the API's clock runs (set by\n"
    "                      --sandbox --time-scale X)\n"
    "  CLEANLIST_RATE_LIMIT_STORE  redis://host:port/db: the rate limit shared with every\n"
    "                      machine that uses the key (default: this machine's processes)\n"
    "\n"
    "  CLEANLIST_RECIPES   directories (separated by ':') searched for recipes first\n"
    "  CLEANLIST_CORE_DUMPS  1 allows core dumps (off by default: one would hold the key)\n"
    "\n"
    "The client's long waits (rate limits, Retry-After) are announced on standard error\n"
    "(cleanlist.on_wait). A script that returns an integer exits with it; an uncaught error\n"
    "prints a traceback to standard error and exits with status 1. Ctrl-C interrupts the\n"
    "script (a recipe says how to resume) and exits with status 130.\n"
    "\n"
    "exit status (the same for every recipe):\n"
    "    0  done\n"
    "    1  a script error (the traceback says where)\n"
    "    2  bad arguments\n";

/* The exit statuses of the error kinds (core/cl_errors.def), after usage_text. */
static void print_help(void) {
  fputs(usage_text, stdout);
  for (int k = 1; k < CL_KIND_COUNT; k++)
    printf("  %3d  an error of kind %s\n", cl_kind_exit_status((cl_kind)k),
           cl_kind_name((cl_kind)k));
  fputs(
      "   19  a call an earlier run sent has no known outcome (a recipe's --resend-unknown)\n"
      "   20  the run a recipe waited on ended failed or cancelled\n"
      "  130  interrupted (Ctrl-C)\n",
      stdout);
}

/* Run once in every new state: the default announcer of long waits. A module that cannot be
 * loaded here is left for the script's own require to report. */
static const char on_wait_chunk[] =
    "local ok, cl = pcall(require, \"cleanlist\"); if ok and type(cl) == \"table\" then "
    "cl.on_wait = function(info) io.stderr:write(\"cleanlist: \", info.message, \"\\n\") end "
    "end";

/* Ctrl-C, as the lua interpreter does it: the first one makes the running Lua code raise
 * "interrupted!" at its next instruction (a recipe catches it and says how to resume); a
 * second one, before that, ends the process. */
static lua_State *running_state = NULL;

static void interrupted_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

static void on_sigint(int sig) {
  signal(sig, SIG_DFL);
  if (running_state)
    lua_sethook(running_state, interrupted_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void catch_sigint(lua_State *L) {
  running_state = L;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint; /* no SA_RESTART: a sleep or poll in progress ends early */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

/* Message handler: turns any error value into a string with a traceback. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
      msg = lua_tostring(L, -1);
    } else {
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static int report(lua_State *L, int status) {
  if (status != 0) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(error without a message)");
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

static int docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

/* Calls the function below its narg arguments; returns the exit status: 1 when it raised an
 * error (reported), the integer it returned (0..255), else 0. */
static int call_for_status(lua_State *L, int narg) {
  int status = docall(L, narg, 1);
  if (status != 0) {
    report(L, status);
    return 1;
  }
  int code = 0;
  if (lua_type(L, -1) == LUA_TNUMBER) {
    lua_Number n = lua_tonumber(L, -1);
    code = n >= 0 && n <= 255 ? (int)n : 1;
  }
  lua_pop(L, 1);
  return code;
}

static void preload_c(lua_State *L, const char *name, lua_CFunction f) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
  lua_pop(L, 2);
}

/* Pushes a set of the names in package.loaded. */
static void push_loaded_names(lua_State *L) {
  lua_newtable(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, -6);
  }
  lua_pop(L, 2);
}

/* When "cleanlist" did not load, forgets every module loaded since the set of names at the
 * top of the stack was taken (and pops it): on LuaJIT a failed require leaves a mark there,
 * and the script's own require must report the real error, not "loop or previous error". */
static void forget_failed_load(lua_State *L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_getfield(L, -1, "cleanlist");
  int loaded = lua_type(L, -1) == LUA_TTABLE;
  lua_pop(L, 1);
  if (!loaded) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_rawget(L, -5);
      int known = lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (!known) {
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, -4); /* clearing an existing field during lua_next is allowed */
      }
    }
  }
  lua_pop(L, 3);
}

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  if (!L) return NULL;
  luaL_openlibs(L);
  preload_c(L, "cleanlist.core", luaopen_cleanlist_core);
  preload_c(L, "cleanlist.curl", luaopen_cleanlist_curl);
#ifdef CL_HAVE_REDIS
  preload_c(L, "cleanlist.redis", luaopen_cleanlist_redis);
#endif
  cl_embed_preload(L, cl_client_lua, "CLEANLIST_LUA_DIR");
  cl_embed_recipes(L, cl_recipes_lua);
  /* cleanlist.recipe: a recipe returns its exit status to the host instead of exiting. */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "cleanlist.hosted");
  lua_pop(L, 2);
  push_loaded_names(L);
  if (luaL_loadbuffer(L, on_wait_chunk, sizeof on_wait_chunk - 1, "=(on_wait)") != 0 ||
      lua_pcall(L, 0, 0, 0) != 0)
    lua_pop(L, 1); /* silently: the default announcer is a convenience */
  forget_failed_load(L);
  return L;
}

/* arg table as the lua interpreter builds it: script at 0, its arguments from 1. */
static void set_arg(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int run_script(lua_State *L, const char *path, char **argv, int argc, int script) {
  int status = luaL_loadfile(L, strcmp(path, "-") == 0 ? NULL : path);
  if (status != 0) return report(L, status) ? 1 : 0;
  int n = 0;
  for (int i = script + 1; i < argc; i++, n++) lua_pushstring(L, argv[i]);
  return call_for_status(L, n);
}

/* `cleanlist run NAME args...` (argv[cmd] is "run") and `cleanlist recipes`, through
 * cleanlist.recipes. */
static int run_command(lua_State *L, char **argv, int argc, int cmd) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cleanlist.recipes");
  if (report(L, docall(L, 1, 1))) return 1;
  if (strcmp(argv[cmd], "recipes") == 0) {
    lua_getfield(L, -1, "listing");
    lua_remove(L, -2);
    if (report(L, docall(L, 0, 1))) return 1;
    fputs(lua_tostring(L, -1), stdout);
    lua_pop(L, 1);
    return 0;
  }
  if (cmd + 1 >= argc) {
    fprintf(stderr, "%s: run needs the name of a recipe (cleanlist recipes lists them)\n",
            progname);
    lua_pop(L, 1);
    return 2;
  }
  lua_getfield(L, -1, "run");
  lua_remove(L, -2);
  lua_pushstring(L, argv[cmd + 1]);
  lua_createtable(L, argc - cmd - 2, 0);
  for (int i = cmd + 2; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - cmd - 1);
  }
  return call_for_status(L, 2);
}

/* Loads one REPL chunk: first as an expression ("return <line>"), else as statements. Returns
 * 1 when the input is incomplete (more lines needed), else the load status. */
static int repl_load(lua_State *L, const char *code) {
  const char *ret = lua_pushfstring(L, "return %s", code);
  int status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
  lua_remove(L, -2);
  if (status == 0) return 0;
  lua_pop(L, 1);
  status = luaL_loadbuffer(L, code, strlen(code), "=stdin");
  if (status == LUA_ERRSYNTAX) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    /* "... near <eof>" (Lua 5.x), "... near '<eof>'" (LuaJIT): the chunk goes on */
    if ((len >= 5 && strcmp(msg + len - 5, "<eof>") == 0) ||
        (len >= 7 && strcmp(msg + len - 7, "'<eof>'") == 0)) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return status;
}

/* Prints the values left on the stack above `base` with the global print. */
static void repl_print(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n <= 0) return;
  lua_getglobal(L, "print");
  lua_insert(L, base + 1);
  if (lua_pcall(L, n, 0, 0) != 0) report(L, 1);
}

/* One line of input with the prompt: malloc'd, without its newline; NULL at the end. With
 * libedit: line editing and history. */
static char *read_line(const char *prompt) {
#if defined(CL_HAVE_EDITLINE)
  char *line = readline(prompt);
  if (line && *line) add_history(line);
  return line;
#else
  char buf[4096];
  fputs(prompt, stdout);
  fflush(stdout);
  if (!fgets(buf, sizeof buf, stdin)) return NULL;
  buf[strcspn(buf, "\n")] = '\0';
  return strdup(buf);
#endif
}

/* ~/.cleanlist_history, or NULL when HOME is not set. */
static const char *history_path(void) {
  static char path[1024];
  const char *home = getenv("HOME");
  if (!home || !*home) return NULL;
  snprintf(path, sizeof path, "%s/.cleanlist_history", home);
  return path;
}

/* In the prompt: the module as `cleanlist`, and a ready `client` when a key is at hand
 * (CLEANLIST_API_KEY, set by --sandbox too). */
static const char repl_prelude[] =
    "cleanlist = require \"cleanlist\"\n"
    "if (os.getenv(\"CLEANLIST_API_KEY\") or \"\") ~= \"\" then\n"
    "  local ok, c = pcall(cleanlist.new)\n"
    "  if ok then client = c; print(\"client: \" .. tostring(c) .. \" (try client:whoami())\")\n"
    "  else print(\"no client: \" .. tostring(c)) end\n"
    "else print(\"no client: set CLEANLIST_API_KEY, or start with --sandbox\") end\n";

/* An interactive loop for terminals: expressions print their values. */
static void repl(lua_State *L) {
  const char *hist = history_path();
#if defined(CL_HAVE_EDITLINE)
  stifle_history(1000);
  if (hist) read_history(hist);
#endif
  if (luaL_loadbuffer(L, repl_prelude, sizeof repl_prelude - 1, "=(prompt)") == 0)
    report(L, docall(L, 0, 0));
  else
    report(L, 1);
  lua_pushliteral(L, "");
  for (;;) {
    size_t pending;
    lua_tolstring(L, -1, &pending);
    char *line = read_line(pending ? ">> " : "> ");
    if (!line) break;
    lua_pushstring(L, line);
    lua_pushliteral(L, "\n");
    free(line);
    lua_concat(L, 3);
    int base = lua_gettop(L);
    int status = repl_load(L, lua_tostring(L, -1));
    if (status == 1) continue;
    if (status == 0) {
      lua_pushcfunction(L, msghandler);
      lua_insert(L, -2);
      status = lua_pcall(L, 0, LUA_MULTRET, base + 1);
      lua_remove(L, base + 1);
      if (status == 0) repl_print(L, base);
    }
    if (status != 0) report(L, status);
    lua_settop(L, base - 1);
    lua_pushliteral(L, "");
  }
  fputc('\n', stdout);
  lua_pop(L, 1);
#if defined(CL_HAVE_EDITLINE)
  if (hist) write_history(hist);
#else
  (void)hist;
#endif
}

typedef struct host_opts {
  const char *code[16];
  int ncode;
  int sandbox;
  cl_sandbox_opts sb; /* sandbox flags given after --sandbox */
  int script; /* index of the script in argv, or 0 */
} host_opts;

enum { OPT_SANDBOX = 1 }; /* the host's long-only option; the sandbox's flags come after 255 */

/* A sandbox flag (val from cl_sandbox_options) that the host cannot take: one of the listener,
 * or any before --sandbox. Says why on stderr and returns 1; 0 when it may be taken. Messages
 * name the flag only, never its value: that may be an API key. */
static int refuse_sandbox_flag(int val, const char *name, const host_opts *o) {
  if (cl_sandbox_listener_flag(val)) {
    fprintf(stderr,
            "%s: %s is a flag of `cleanlist sandbox` only: the sandbox of --sandbox always "
            "listens quietly on 127.0.0.1, on a free port\n",
            progname, name);
    return 1;
  }
  if (!o->sandbox) {
    fprintf(stderr,
            "%s: %s is a sandbox flag: add --sandbox before it (cleanlist --sandbox %s ... "
            "script.lua)\n",
            progname, name, name);
    return 1;
  }
  return 0;
}

/* The host's options and the sandbox's flags, for getopt_long. */
static const struct option *host_options(void) {
  static struct option all[64];
  static const struct option own[] = {{"help", no_argument, NULL, 'h'},
                                      {"version", no_argument, NULL, 'v'},
                                      {"sandbox", no_argument, NULL, OPT_SANDBOX}};
  size_t n = sizeof own / sizeof *own;
  if (all[0].name == NULL) {
    memcpy(all, own, sizeof own);
    for (const struct option *f = cl_sandbox_options(); f->name && n + 1 < 64; f++) all[n++] = *f;
  }
  return all;
}

/* A refused option at the parse's position (getopt returned c): says so; returns the status. */
static int option_error(int c, const char *name, const host_opts *o) {
  if (optopt >= CL_SANDBOX_OPT_FIRST && refuse_sandbox_flag(optopt, name, o)) return 2;
  if (c == ':' && optopt == 'e')
    fprintf(stderr, "%s: -e needs an argument\n", progname);
  else if (c == ':')
    fprintf(stderr, "%s: %s needs a value\n", progname, name);
  else if (optopt != 0 && strncmp(name, "--", 2) == 0)
    fprintf(stderr, "%s: %s takes no value\n", progname, name);
  else
    fprintf(stderr, "%s: unknown option '%s' (cleanlist --help lists them)\n", progname, name);
  return 2;
}

/* Options up to the script name ("+": what follows it is the script's, `run RECIPE --flag`
 * included). Returns -1 to continue, else an exit status. */
static int parse_args(int argc, char **argv, host_opts *o) {
  const struct option *longopts = host_options();
  char name[64], err[256];
  int c;
  optind = 1;
  while ((c = cl_sandbox_getopt(argc, argv, "+:e:hv", longopts, name, sizeof name)) != -1) {
    if (c == 'v') {
      printf("cleanlist %s (%s)\n", CL_VERSION, LCL_ENGINE_NAME);
      return 0;
    } else if (c == 'h') {
      print_help();
      return 0;
    } else if (c == OPT_SANDBOX) {
      o->sandbox = 1;
    } else if (c == 'e') {
      if (o->ncode == 16) {
        fprintf(stderr, "%s: -e may be given at most 16 times\n", progname);
        return 2;
      }
      o->code[o->ncode++] = optarg;
    } else if (c == '?' || c == ':') {
      return option_error(c, name, o);
    } else if (refuse_sandbox_flag(c, name, o)) {
      return 2;
    } else if (cl_sandbox_set_flag(&o->sb, c, optarg, err, sizeof err) < 0) {
      fprintf(stderr, "%s: %s\n", progname, err);
      return 2;
    }
  }
  o->script = optind < argc ? optind : 0;
  return -1;
}

static int run(lua_State *L, int argc, char **argv, const host_opts *o) {
  set_arg(L, argv, argc, o->script ? o->script : argc);
  for (int i = 0; i < o->ncode; i++) {
    int status = luaL_loadbuffer(L, o->code[i], strlen(o->code[i]), "=(command line)");
    if (status == 0) status = docall(L, 0, 0);
    if (report(L, status)) return 1;
  }
  catch_sigint(L);
  if (o->script) {
    const char *s = argv[o->script];
    if (strcmp(s, "run") == 0 || strcmp(s, "recipes") == 0)
      return run_command(L, argv, argc, o->script);
    return run_script(L, s, argv, argc, o->script);
  }
  if (o->ncode == 0) {
    if (!isatty(0)) return run_script(L, "-", argv, argc, argc - 1);
    printf("cleanlist %s (%s): Lua with the cleanlist module; Ctrl-D to leave\n", CL_VERSION,
           LCL_ENGINE_NAME);
    repl(L);
  }
  return 0;
}

/* x in the fewest digits that read back as x. */
static void format_number(char *buf, size_t n, double x) {
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, n, "%.*g", prec, x);
    if (strtod(buf, NULL) == x) return;
  }
}

static cl_sandbox *start_sandbox(const cl_sandbox_opts *flags) {
  char err[512], url[96], scale[32];
  cl_sandbox_opts so = *flags;
  so.quiet = 1;
  cl_sandbox *sb = cl_sandbox_start(&so, err, sizeof err);
  if (!sb) {
    fprintf(stderr, "%s: could not start the sandbox: %s\n", progname, err);
    return NULL;
  }
  snprintf(url, sizeof url, "http://127.0.0.1:%u%s", cl_sandbox_port(sb), CL_SANDBOX_BASE_PATH);
  setenv("CLEANLIST_BASE_URL", url, 1);
  setenv("CLEANLIST_API_KEY", so.api_key ? so.api_key : CL_SANDBOX_DEFAULT_KEY, 1);
  if (so.time_scale > 0 && so.time_scale != 1) {
    format_number(scale, sizeof scale, so.time_scale);
    setenv("CLEANLIST_TIME_SCALE", scale, 1);
  } else {
    unsetenv("CLEANLIST_TIME_SCALE"); /* the sandbox runs in real time, whatever was inherited */
  }
  return sb;
}

/* A core dump would hold the API key: none, unless CLEANLIST_CORE_DUMPS=1 asks for them. */
static void limit_core_dumps(void) {
  const char *want = getenv("CLEANLIST_CORE_DUMPS");
  if (want && strcmp(want, "1") == 0) return;
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
}

int main(int argc, char **argv) {
  limit_core_dumps();
  if (argc > 1 && strcmp(argv[1], "sandbox") == 0) return cl_sandbox_main(argc - 1, argv + 1);
  host_opts o;
  memset(&o, 0, sizeof o);
  int status = parse_args(argc, argv, &o);
  if (status >= 0) return status;
  cl_sandbox *sb = NULL;
  if (o.sandbox && !(sb = start_sandbox(&o.sb))) return 1;
  lua_State *L = new_state();
  if (!L) {
    fprintf(stderr, "%s: cannot create a Lua state (out of memory)\n", progname);
    cl_sandbox_stop(sb);
    return 1;
  }
  status = run(L, argc, argv, &o);
  lua_close(L);
  cl_sandbox_stop(sb);
  return status;
}
