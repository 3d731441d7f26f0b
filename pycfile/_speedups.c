/* Optional accelerator for pycfile's marshal reader and writer.
 *
 * The pure-Python reader and writer (pycfile/_reader.py, pycfile/_writer.py) are the
 * reference.  This module does the common case faster and gives up on everything else:
 * read() and write() return None ("bail") for any input they do not handle -- an error,
 * an unusual type code, a value out of range, a deep nest, a low C stack -- and the
 * caller then runs the pure-Python code on the same input from the start, which gives
 * the answer or the error with its offset.  So this module never decides what is valid;
 * it only has to build, for what it accepts, exactly the model (or bytes) the
 * pure-Python code builds.
 *
 * Nothing here is tied to the Python side by position.  The module exports the names of
 * its reader handlers (HANDLERS), of the model classes it builds (KINDS) and of the
 * fields it fills in each (FIELDS); pycfile/_accel.py describes a format with those
 * names (which handler each type byte has, which class each kind is, the code layout's
 * field names), make_plan() resolves every name here, and anything it does not know
 * makes it fail -- the format then stays with the pure-Python code.
 *
 * Model objects are attrs slots classes.  They are made the way their attrs __init__
 * makes them -- every field set, no validators, converters or hooks (_accel checks) --
 * but directly: tp_alloc, then each field stored at the offset its class's member table
 * (PyType_GetSlot(type, Py_tp_members), public API) gives for that name.
 *
 * Garbage collector: a leaf (Int, Long, Float, Complex, Bytes, Str) holds only ints,
 * strings, bytes, bools and None, so it cannot be part of a reference cycle, and the
 * reader leaves it untracked, as CPython leaves tuples of atoms untracked; so is the
 * items list of a TupleValue, ListValue or SetValue holding only such leaves and
 * Singletons (the container itself stays tracked).  make_plan() puts a data descriptor
 * (RetrackingMember) in place of the member descriptors that could break that:
 *   - each field of the leaves and of Singleton: it sets the slot exactly as the member
 *     descriptor does, and when the value is one the collector handles (a list, a model
 *     object...) it tracks the object again and first tracks every items list left
 *     untracked (sweep(): a walk of gc.get_objects(), only when such lists exist), since
 *     the leaf may sit in any of them;
 *   - the items field of those containers: it tracks the list before handing it out, as
 *     whoever gets it may put anything in it.
 * So any cycle made later is made of tracked objects and is collected as usual.  Not on
 * free-threaded builds, where every object stays tracked.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define MEMBER_OBJECT_EX T_OBJECT_EX
#define MEMBER_READONLY READONLY
#else
#define MEMBER_OBJECT_EX Py_T_OBJECT_EX
#define MEMBER_READONLY Py_READONLY
#endif
#ifndef MS_WINDOWS
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#endif
#if defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__)
#include <pthread.h>
#if defined(__FreeBSD__)
#include <pthread_np.h>
#endif
#define HAVE_STACK_BOUNDS 1
#elif defined(MS_WINDOWS)
#include <windows.h>
#define HAVE_STACK_BOUNDS 1
#endif

#if defined(_MSC_VER)
#define THREAD_LOCAL __declspec(thread)
#else
#define THREAD_LOCAL _Thread_local
#endif

#ifndef Py_UNUSED
#define Py_UNUSED(name) _unused_##name
#endif

/* ------------------------------------------------------------------------------------ */
/* The names this module knows                                                           */

/* Reader handlers, by the names the pure reader gives its handlers ("" for a byte that is
 * no type code).  The first four are the pure-Python code's only (the byte bails). */
enum {
    H_UNKNOWN, H_NULL, H_FLOAT_TEXT, H_COMPLEX_TEXT,
    H_SINGLETON, H_INT, H_INT64, H_LONG, H_FLOAT, H_COMPLEX, H_BYTES, H_INTERNED2,
    H_STRINGREF, H_UNICODE, H_ASCII, H_SHORT_ASCII, H_REF, H_TUPLE, H_SMALL_TUPLE,
    H_LIST, H_DICT, H_SET, H_FROZENSET, H_SLICE, H_FROZENDICT, H_CODE, NHANDLERS
};
static const char *const HANDLER_NAMES[NHANDLERS] = {
    "", "null", "float_text", "complex_text",
    "singleton", "int32", "int64", "long", "float", "complex", "bytes", "interned_bytes",
    "string_ref", "utf8", "latin", "short_latin", "ref", "tuple", "small_tuple",
    "list", "dict", "set", "frozenset", "slice", "frozendict", "code",
};

/* Model classes, by their names in pycfile (the code object's class is "Code"). */
enum {
    K_SINGLETON, K_INT, K_LONG, K_FLOAT, K_COMPLEX, K_BYTES, K_STR, K_TUPLE, K_LIST,
    K_DICT, K_SET, K_FROZENSET, K_SLICE, K_FROZENDICT, K_CODE, NKINDS
};
static const char *const KIND_NAMES[NKINDS] = {
    "Singleton", "Int", "Long", "Float", "Complex", "Bytes", "Str", "TupleValue",
    "ListValue", "DictValue", "SetValue", "FrozenSetValue", "Slice", "FrozenDict", "Code",
};

/* The fields filled in each kind, in the order of the vals[] arrays below (the F_*
 * indices); NULL for Code: its layout's fields in stream order, then flag_ref. */
enum { F_VALUE, F_CODE, F_FLAG, F_SIZE };           /* Int, Long (+ size), Bytes, Str */
enum { F_RAW, F_RAW_CODE, F_RAW_FLAG };             /* Float */
enum { F_REAL, F_IMAG, F_CX_CODE, F_CX_FLAG };      /* Complex */
enum { F_ITEMS, F_ITEMS_CODE, F_ITEMS_FLAG };       /* the containers */
enum { F_START, F_STOP, F_STEP, F_SL_CODE, F_SL_FLAG }; /* Slice */
static const char *const FIELDS_SINGLETON[] = {"code", "flag_ref", NULL};
static const char *const FIELDS_VALUE[] = {"value", "code", "flag_ref", NULL};
static const char *const FIELDS_LONG[] = {"value", "code", "flag_ref", "size", NULL};
static const char *const FIELDS_FLOAT[] = {"raw", "code", "flag_ref", NULL};
static const char *const FIELDS_COMPLEX[] = {"real", "imag", "code", "flag_ref", NULL};
static const char *const FIELDS_ITEMS[] = {"items", "code", "flag_ref", NULL};
static const char *const FIELDS_SLICE[] = {"start", "stop", "step", "code", "flag_ref", NULL};
static const char *const *const KIND_FIELDS[NKINDS] = {
    FIELDS_SINGLETON, FIELDS_VALUE, FIELDS_LONG, FIELDS_FLOAT, FIELDS_COMPLEX, FIELDS_VALUE,
    FIELDS_VALUE, FIELDS_ITEMS, FIELDS_ITEMS, FIELDS_ITEMS, FIELDS_ITEMS, FIELDS_ITEMS,
    FIELDS_SLICE, FIELDS_ITEMS, NULL,
};

/* The kind each handler builds (-1: none, or the pure code's). */
static const signed char HANDLER_KIND[NHANDLERS] = {
    -1, -1, -1, -1,
    K_SINGLETON, K_INT, K_INT, K_LONG, K_FLOAT, K_COMPLEX, K_BYTES, K_BYTES,
    K_BYTES, K_STR, K_STR, K_STR, -1, K_TUPLE, K_TUPLE,
    K_LIST, K_DICT, K_SET, K_FROZENSET, K_SLICE, K_FROZENDICT, K_CODE,
};

/* Leaves: kinds whose fields hold only ints, strings, bytes, bools and None. */
static int
is_leaf(int k)
{
    return k == K_INT || k == K_LONG || k == K_FLOAT || k == K_COMPLEX || k == K_BYTES || k == K_STR;
}

#define MAXFIELDS 40
#define MAXSTEPS 16
/* Nesting handled here; deeper input goes to the pure-Python code. */
#define MAXDEPTH 400
/* Where the C stack's bounds cannot be known: a depth safe on any thread's stack. */
#define BLIND_DEPTH 48
/* read() and write() bail when less than this much C stack is left. */
#define STACK_MARGIN (16 * 1024)
/* Longs of at most this many 15-bit digits; bigger ones go to the pure-Python code. */
#define LONG_DIGITS 64
/* Items reserved in a new list before any is read; the rest are appended as read, so a
 * lying count costs no memory the input does not justify. */
#define RESERVE 32

#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))

/* ------------------------------------------------------------------------------------ */
/* Module state                                                                          */

typedef struct {
    PyObject *code_str[128];    /* one-character strings for the type codes */
    PyTypeObject *retrack_type; /* RetrackingMember */
    PyObject *holders;          /* {container class: offset of its items slot} */
    Py_ssize_t untracked_lists; /* items lists left untracked since the last sweep */
} State;

static State *
get_state(PyObject *module)
{
    return (State *)PyModule_GetState(module);
}

/* ------------------------------------------------------------------------------------ */
/* The C stack                                                                           */

/* The lowest address this thread's C stack may reach (the stack grows down on every
 * platform CPython supports); 0 when it cannot be known.  Found once per thread. */
static THREAD_LOCAL uintptr_t stack_low, stack_high;
static THREAD_LOCAL int stack_known;

static void
find_stack(void)
{
    stack_known = 1;
    stack_low = stack_high = 0;
#if defined(__linux__) || defined(__FreeBSD__)
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
#if defined(__linux__)
    int err = pthread_getattr_np(pthread_self(), &attr);
#else
    int err = pthread_attr_init(&attr);
    if (err == 0 && (err = pthread_attr_get_np(pthread_self(), &attr)) != 0)
        pthread_attr_destroy(&attr);
#endif
    if (err != 0)
        return;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0 && addr != NULL && size > 0) {
        stack_low = (uintptr_t)addr;
        stack_high = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&attr);
#elif defined(__APPLE__)
    uintptr_t top = (uintptr_t)pthread_get_stackaddr_np(pthread_self());
    size_t size = pthread_get_stacksize_np(pthread_self());
    if (top > size) {
        stack_low = top - size;
        stack_high = top;
    }
#elif defined(MS_WINDOWS)
    ULONG_PTR low = 0, high = 0;
    GetCurrentThreadStackLimits(&low, &high);
    stack_low = (uintptr_t)low;
    stack_high = (uintptr_t)high;
#endif
}

/* The address below which read() and write() bail, or 0 if the stack's bounds are not
 * known here (then the plan's depth is cut to BLIND_DEPTH instead). */
static uintptr_t
stack_limit(void)
{
    if (!stack_known)
        find_stack();
    char here;
    uintptr_t sp = (uintptr_t)&here;
    if (stack_low == 0 || sp <= stack_low || sp > stack_high) /* not on the thread's stack */
        return 0;
    return stack_low + STACK_MARGIN;
}

/* Whether the stack is too low to go one level deeper. */
static inline int
stack_low_here(uintptr_t limit)
{
    char here;
    return (uintptr_t)&here < limit;
}

/* ------------------------------------------------------------------------------------ */
/* RetrackingMember: a slot that tracks its object again when it gets a collectable value */

/* A field of a leaf or a Singleton (SET_TRACKS), or the items of a container (GET_TRACKS). */
enum { SET_TRACKS = 1, GET_TRACKS = 2 };

typedef struct {
    PyObject_HEAD
    PyObject *member; /* the class's own member descriptor for this slot */
    Py_ssize_t offset;
    int mode;
} Retrack;

/* Track every items list the reader left untracked (see r_sequence): walks every object
 * the collector tracks, so it runs only when a leaf or Singleton gets a collectable
 * value while such lists may exist. */
static int
sweep(State *st)
{
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *objects = gc == NULL ? NULL : PyObject_CallMethod(gc, "get_objects", NULL);
    Py_XDECREF(gc);
    if (objects == NULL || !PyList_Check(objects)) {
        Py_XDECREF(objects);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); i++) {
        PyObject *o = PyList_GET_ITEM(objects, i);
        PyObject *off = PyDict_GetItemWithError(st->holders, (PyObject *)Py_TYPE(o));
        if (off == NULL) {
            if (PyErr_Occurred()) {
                Py_DECREF(objects);
                return -1;
            }
            continue;
        }
        PyObject *items = SLOT(o, PyLong_AsSsize_t(off));
        if (items != NULL && PyList_CheckExact(items) && !PyObject_GC_IsTracked(items))
            PyObject_GC_Track(items);
    }
    Py_DECREF(objects);
    st->untracked_lists = 0;
    return 0;
}

static PyObject *
retrack_get(PyObject *self, PyObject *obj, PyObject *type)
{
    Retrack *d = (Retrack *)self;
    if (obj == NULL) {
        Py_INCREF(self);
        return self;
    }
    PyObject *v = Py_TYPE(d->member)->tp_descr_get(d->member, obj, type);
    /* an items list is handed out only tracked: whoever gets it may put anything in it */
    if (d->mode == GET_TRACKS && v != NULL && PyList_CheckExact(v) && !PyObject_GC_IsTracked(v))
        PyObject_GC_Track(v);
    return v;
}

static int
retrack_set(PyObject *self, PyObject *obj, PyObject *value)
{
    Retrack *d = (Retrack *)self;
    int collectable = value != NULL && PyObject_IS_GC(value);
    if (collectable && d->mode == SET_TRACKS) {
        /* the leaf may sit in untracked lists: track them all before it can close a cycle */
        State *st = (State *)PyType_GetModuleState(Py_TYPE(self));
        if (st == NULL || (st->untracked_lists > 0 && sweep(st) < 0))
            return -1;
    }
    if (Py_TYPE(d->member)->tp_descr_set(d->member, obj, value) < 0)
        return -1;
    if (collectable && PyObject_IS_GC(obj) && !PyObject_GC_IsTracked(obj))
        PyObject_GC_Track(obj);
    return 0;
}

static int
retrack_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((Retrack *)self)->member);
#if PY_VERSION_HEX >= 0x03090000
    Py_VISIT(Py_TYPE(self));
#endif
    return 0;
}

static int
retrack_clear(PyObject *self)
{
    Py_CLEAR(((Retrack *)self)->member);
    return 0;
}

static void
retrack_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    retrack_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
retrack_forward(PyObject *self, void *name)
{
    return PyObject_GetAttrString(((Retrack *)self)->member, (const char *)name);
}

static PyGetSetDef retrack_getset[] = {
    {"__doc__", retrack_forward, NULL, NULL, "__doc__"},
    {"__name__", retrack_forward, NULL, NULL, "__name__"},
    {"__qualname__", retrack_forward, NULL, NULL, "__qualname__"},
    {"__objclass__", retrack_forward, NULL, NULL, "__objclass__"},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot retrack_slots[] = {
    {Py_tp_descr_get, (void *)retrack_get},
    {Py_tp_descr_set, (void *)retrack_set},
    {Py_tp_traverse, (void *)retrack_traverse},
    {Py_tp_clear, (void *)retrack_clear},
    {Py_tp_dealloc, (void *)retrack_dealloc},
    {Py_tp_getset, (void *)retrack_getset},
    {0, NULL},
};

static PyType_Spec retrack_spec = {
    "pycfile._speedups.RetrackingMember", sizeof(Retrack), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, retrack_slots,
};

/* ------------------------------------------------------------------------------------ */
/* Plans                                                                                 */

typedef struct {
    PyTypeObject *type;          /* strong reference */
    int n;
    Py_ssize_t off[MAXFIELDS];   /* slot offsets, in KIND_FIELDS order (Code: stream order) */
    PyObject *descr[MAXFIELDS];  /* the class's descriptors for them (strong references) */
    Py_ssize_t code_off, flag_off;
    int untrack;                 /* leave new objects (leaves) untracked */
    int untrack_items;           /* leave a new container's list of leaves untracked */
} ClassInfo;

typedef struct {
    unsigned char handler[256];
    PyObject *single[256];       /* strong references (or NULL) */
    PyObject *code_str[128];     /* strong references (or NULL) */
    ClassInfo cls[NKINDS];       /* type NULL: the format has no such class */
    int nsteps;
    int steps[MAXSTEPS];         /* >0: that many object fields; <0: that many int fields */
    int int_size;                /* 2 or 4 */
    int code_type_byte;          /* 'c' or 'C' */
    int max_depth;               /* deepest depth (as the pure code counts it) accepted */
    int refs_enabled;
    unsigned char allowed[NKINDS][128];
    PyObject *module;            /* strong reference: its state counts untracked lists */
} Plan;

#define PLAN_NAME "pycfile._speedups.Plan"

static void
plan_free(PyObject *capsule)
{
    Plan *plan = (Plan *)PyCapsule_GetPointer(capsule, PLAN_NAME);
    if (plan == NULL) {
        PyErr_Clear();
        return;
    }
    for (int i = 0; i < 256; i++)
        Py_XDECREF(plan->single[i]);
    for (int i = 0; i < 128; i++)
        Py_XDECREF(plan->code_str[i]);
    for (int k = 0; k < NKINDS; k++) {
        Py_XDECREF(plan->cls[k].type);
        for (int i = 0; i < plan->cls[k].n; i++)
            Py_XDECREF(plan->cls[k].descr[i]);
    }
    Py_XDECREF(plan->module);
    PyMem_Free(plan);
}

static int
plan_error(const char *fmt, const char *name)
{
    PyErr_Format(PyExc_ValueError, fmt, name);
    return -1;
}

/* The PyMemberDef of a writable object slot ``name`` of ``tp`` (its own __slots__). */
static const PyMemberDef *
find_member(PyTypeObject *tp, const char *name)
{
    const PyMemberDef *m = (const PyMemberDef *)PyType_GetSlot(tp, Py_tp_members);
    for (; m != NULL && m->name != NULL; m++) {
        if (strcmp(m->name, name) == 0)
            return m->type == MEMBER_OBJECT_EX && !(m->flags & MEMBER_READONLY) ? m : NULL;
    }
    return NULL;
}

/* The descriptor the class has for ``name``: its member descriptor, or a
 * RetrackingMember over the same slot (put there by an earlier plan).  With a ``mode``
 * (SET_TRACKS, GET_TRACKS), a member descriptor is replaced by a RetrackingMember. */
static PyObject *
slot_descriptor(State *st, PyTypeObject *tp, const char *name, Py_ssize_t offset, int mode)
{
    PyObject *d = PyObject_GetAttrString((PyObject *)tp, name);
    if (d == NULL)
        return NULL;
    if (Py_IS_TYPE(d, st->retrack_type)) {
        if (((Retrack *)d)->offset == offset && ((Retrack *)d)->mode == mode)
            return d;
    }
    else if (Py_IS_TYPE(d, &PyMemberDescr_Type)) {
        PyObject *objclass = PyObject_GetAttrString(d, "__objclass__");
        int own = objclass == (PyObject *)tp;
        Py_XDECREF(objclass);
        if (own && !mode)
            return d;
        if (own) {
            Retrack *r = PyObject_GC_New(Retrack, st->retrack_type);
            if (r == NULL) {
                Py_DECREF(d);
                return NULL;
            }
            r->member = d; /* the reference taken above */
            r->offset = offset;
            r->mode = mode;
            PyObject_GC_Track((PyObject *)r);
            if (PyObject_SetAttrString((PyObject *)tp, name, (PyObject *)r) < 0) {
                Py_DECREF(r);
                return NULL;
            }
            return (PyObject *)r;
        }
    }
    Py_DECREF(d);
    plan_error("field %s is not a plain slot of its class", name);
    return NULL;
}

/* Fill ``ci`` for class ``type`` and its fields ``names`` (C strings, NULL-terminated). */
static int
class_info(State *st, ClassInfo *ci, int kind, PyObject *type, const char *const *names)
{
    if (!PyType_Check(type))
        return plan_error("%s is not a class", KIND_NAMES[kind]);
    PyTypeObject *tp = (PyTypeObject *)type;
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || tp->tp_alloc == NULL || tp->tp_dictoffset != 0 ||
        !(tp->tp_flags & Py_TPFLAGS_HAVE_GC))
        return plan_error("%s is not a slots class", KIND_NAMES[kind]);
    /* leaves, and the containers whose items may all be leaves (not dicts: their lists
       hold tuples) */
    int holder = kind == K_TUPLE || kind == K_LIST || kind == K_SET;
#ifdef Py_GIL_DISABLED
    int retrack = 0 && (is_leaf(kind) || holder); /* every object stays tracked */
#else
    int retrack = is_leaf(kind) || holder || kind == K_SINGLETON;
#endif
    Py_INCREF(type);
    ci->type = tp;
    ci->untrack = retrack && is_leaf(kind);
    ci->untrack_items = retrack && holder;
    for (int i = 0; names[i] != NULL; i++) {
        if (i == MAXFIELDS)
            return plan_error("%s has too many fields", KIND_NAMES[kind]);
        const PyMemberDef *m = find_member(tp, names[i]);
        if (m == NULL)
            return plan_error("field %s is not a writable slot", names[i]);
        ci->off[i] = m->offset;
        ci->n = i + 1;
        int mode = !retrack ? 0 : !holder ? SET_TRACKS : i == F_ITEMS ? GET_TRACKS : 0;
        if ((ci->descr[i] = slot_descriptor(st, tp, names[i], m->offset, mode)) == NULL)
            return -1;
        if (mode == GET_TRACKS) {
            PyObject *off = PyLong_FromSsize_t(m->offset);
            int err = off == NULL ? -1 : PyDict_SetItem(st->holders, type, off);
            Py_XDECREF(off);
            if (err < 0)
                return -1;
        }
        if (strcmp(names[i], "code") == 0)
            ci->code_off = m->offset;
        else if (strcmp(names[i], "flag_ref") == 0)
            ci->flag_off = m->offset;
    }
    if (!ci->flag_off || (kind != K_CODE && !ci->code_off))
        return plan_error("%s lacks code or flag_ref", KIND_NAMES[kind]);
    return 0;
}

static int
handler_number(PyObject *name)
{
    const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    if (s == NULL) {
        PyErr_Clear();
        return -1;
    }
    for (int h = 0; h < NHANDLERS; h++) {
        if (strcmp(s, HANDLER_NAMES[h]) == 0)
            return h;
    }
    return -1;
}

/* make_plan(handlers, singles, classes, code_fields, steps, int_size, code_type_byte,
 *           max_depth, refs_enabled, allowed[, untrack]) -> capsule
 *   handlers: 256 handler names (HANDLERS), one per type byte;
 *   singles: 256 Singleton objects or None (for the bytes whose handler is "singleton");
 *   classes: {kind name (KINDS): class} for the kinds the format has (a byte whose
 *     handler builds a kind without a class bails: the pure code says what is wrong);
 *   code_fields: the code layout's field names in stream order (with "Code");
 *   steps: the layout as runs: >0 that many object fields, <0 that many int fields;
 *   allowed: {kind name: the type codes the writer may write for it};
 *   untrack: leave new leaves untracked (default; false only to measure the difference).
 * Any name it does not know, or a class it cannot fill field by field, is a ValueError. */
static PyObject *
make_plan(PyObject *module, PyObject *args)
{
    PyObject *handlers, *singles, *classes, *code_fields, *steps, *allowed;
    int int_size, code_type_byte, max_depth, refs_enabled, untrack = 1;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!iiiiO!|p", &PyTuple_Type, &handlers, &PyTuple_Type, &singles,
                          &PyDict_Type, &classes, &PyTuple_Type, &code_fields, &PyTuple_Type, &steps,
                          &int_size, &code_type_byte, &max_depth, &refs_enabled, &PyDict_Type, &allowed,
                          &untrack))
        return NULL;
    State *st = get_state(module);
    if (PyTuple_GET_SIZE(handlers) != 256 || PyTuple_GET_SIZE(singles) != 256 ||
        PyTuple_GET_SIZE(steps) > MAXSTEPS || PyTuple_GET_SIZE(code_fields) >= MAXFIELDS ||
        (int_size != 2 && int_size != 4) || code_type_byte < 0 || code_type_byte > 127) {
        PyErr_SetString(PyExc_ValueError, "bad plan");
        return NULL;
    }
    Plan *plan = (Plan *)PyMem_Calloc(1, sizeof(Plan));
    if (plan == NULL)
        return PyErr_NoMemory();
    PyObject *capsule = PyCapsule_New(plan, PLAN_NAME, plan_free);
    if (capsule == NULL) {
        PyMem_Free(plan);
        return NULL;
    }
    for (int i = 0; i < 128; i++) {
        plan->code_str[i] = st->code_str[i];
        Py_XINCREF(plan->code_str[i]);
    }
    Py_INCREF(module);
    plan->module = module;
    /* the classes, by kind name */
    const char *code_names[MAXFIELDS + 1];
    for (int k = 0; k < NKINDS; k++) {
        PyObject *type = PyDict_GetItemString(classes, KIND_NAMES[k]); /* borrowed */
        if (type == NULL)
            continue;
        const char *const *names = KIND_FIELDS[k];
        if (k == K_CODE) {
            Py_ssize_t n = PyTuple_GET_SIZE(code_fields);
            for (Py_ssize_t i = 0; i < n; i++) {
                PyObject *name = PyTuple_GET_ITEM(code_fields, i);
                if (!PyUnicode_Check(name) || (code_names[i] = PyUnicode_AsUTF8(name)) == NULL)
                    goto bad;
            }
            code_names[n] = "flag_ref";
            code_names[n + 1] = NULL;
            names = code_names;
        }
        if (class_info(st, &plan->cls[k], k, type, names) < 0)
            goto fail;
        plan->cls[k].untrack &= untrack;
        plan->cls[k].untrack_items &= untrack;
        PyObject *a = PyDict_GetItemString(allowed, KIND_NAMES[k]);
        if (a != NULL) {
            if (!PyUnicode_Check(a))
                goto bad;
            for (Py_ssize_t j = 0; j < PyUnicode_GET_LENGTH(a); j++) {
                Py_UCS4 ch = PyUnicode_READ_CHAR(a, j);
                if (ch >= 128)
                    goto bad;
                plan->allowed[k][ch] = 1;
            }
        }
    }
    /* a list holding only untracked leaves and Singletons is left untracked only if a
       Singleton's fields, like the leaves', make the lists tracked when they change */
    for (int k = K_TUPLE; k <= K_SET; k++) {
        int ok = plan->cls[k].untrack_items && plan->cls[K_SINGLETON].type != NULL;
        plan->cls[k].untrack_items = ok && Py_IS_TYPE(plan->cls[K_SINGLETON].descr[0], st->retrack_type);
    }
    /* the handlers, by name; each needs its kind's class */
    for (int b = 0; b < 256; b++) {
        int h = handler_number(PyTuple_GET_ITEM(handlers, b));
        if (h < 0) {
            PyErr_Format(PyExc_ValueError, "unknown handler name %R", PyTuple_GET_ITEM(handlers, b));
            goto fail;
        }
        if (HANDLER_KIND[h] >= 0 && plan->cls[HANDLER_KIND[h]].type == NULL)
            h = H_UNKNOWN; /* no class for it (a code object of no known layout): bail */
        plan->handler[b] = (unsigned char)h;
        PyObject *s = PyTuple_GET_ITEM(singles, b);
        if (h == H_SINGLETON) {
            if (!Py_IS_TYPE(s, plan->cls[K_SINGLETON].type))
                goto bad;
            Py_INCREF(s);
            plan->single[b] = s;
        }
    }
    plan->nsteps = (int)PyTuple_GET_SIZE(steps);
    int nfields = 0;
    for (int i = 0; i < plan->nsteps; i++) {
        long s = PyLong_AsLong(PyTuple_GET_ITEM(steps, i));
        if (s == -1 && PyErr_Occurred())
            goto fail;
        if (s == 0 || s > MAXFIELDS || s < -MAXFIELDS)
            goto bad;
        plan->steps[i] = (int)s;
        nfields += s > 0 ? (int)s : (int)-s;
    }
    if (plan->cls[K_CODE].type != NULL && nfields + 1 != plan->cls[K_CODE].n)
        goto bad;
    plan->int_size = int_size;
    plan->code_type_byte = code_type_byte;
    plan->max_depth = max_depth < MAXDEPTH ? max_depth : MAXDEPTH;
    plan->refs_enabled = refs_enabled;
    return capsule;
bad:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "bad plan");
fail:
    Py_DECREF(capsule);
    return NULL;
}

static Plan *
get_plan(PyObject *capsule)
{
    return (Plan *)PyCapsule_GetPointer(capsule, PLAN_NAME);
}

/* A new model object with its slots set to vals[0..n) (references stolen, all non-NULL). */
static PyObject *
make(const ClassInfo *ci, PyObject **vals)
{
    int n = ci->n;
    for (int i = 0; i < n; i++) {
        if (vals[i] == NULL)
            goto fail;
    }
    PyObject *o = ci->type->tp_alloc(ci->type, 0);
    if (o == NULL)
        goto fail;
    for (int i = 0; i < n; i++)
        SLOT(o, ci->off[i]) = vals[i];
    if (ci->untrack)
        PyObject_GC_UnTrack(o);
    return o;
fail:
    for (int i = 0; i < n; i++)
        Py_XDECREF(vals[i]);
    return NULL;
}

static inline PyObject *
new_bool(int b)
{
    PyObject *o = b ? Py_True : Py_False;
    Py_INCREF(o);
    return o;
}

/* ------------------------------------------------------------------------------------ */
/* Reader                                                                                */

typedef struct {
    const unsigned char *p;
    Py_ssize_t pos, end;
    PyObject *refs;    /* list; Py_None marks a reserved slot */
    PyObject *strings; /* 2.x interned strings (list), made on first use */
    const Plan *plan;
    int max_depth;     /* the plan's, or less where the stack's bounds are unknown */
    uintptr_t stack;   /* bail below this address (0: the depth alone decides) */
} Reader;

static inline PyObject *
r_code_str(const Reader *r, int c)
{
    PyObject *s = r->plan->code_str[c & 0x7F];
    Py_XINCREF(s);
    return s;
}

static inline int32_t
le32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static inline int16_t
le16(const unsigned char *p)
{
    return (int16_t)((uint16_t)p[0] | (uint16_t)p[1] << 8);
}

static inline int64_t
le64(const unsigned char *p)
{
    return (int64_t)((uint64_t)(uint32_t)le32(p) | (uint64_t)(uint32_t)le32(p + 4) << 32);
}

/* A 32-bit count of items of at least one byte each, checked against the bytes left. */
static inline Py_ssize_t
r_size(Reader *r)
{
    if (r->end - r->pos < 4)
        return -1;
    int32_t n = le32(r->p + r->pos);
    if (n < 0)
        return -1;
    r->pos += 4;
    if (n > r->end - r->pos)
        return -1;
    return n;
}

/* Append a flagged object to the reference table (o is borrowed); -1 on failure. */
static inline int
r_ref(Reader *r, int flag, PyObject *o)
{
    return flag ? PyList_Append(r->refs, o) : 0;
}

/* Reserve a slot for an object that is filled in after its items; its index or -1. */
static inline Py_ssize_t
r_reserve(Reader *r, int flag)
{
    if (!flag)
        return -1;
    Py_ssize_t slot = PyList_GET_SIZE(r->refs);
    if (PyList_Append(r->refs, Py_None) < 0)
        return -2;
    return slot;
}

static inline void
r_fill(Reader *r, Py_ssize_t slot, PyObject *o)
{
    if (slot >= 0) {
        Py_INCREF(o);
        PyObject *old = PyList_GET_ITEM(r->refs, slot);
        PyList_SET_ITEM(r->refs, slot, o);
        Py_DECREF(old);
    }
}

static PyObject *r_object(Reader *r, int depth);

/* A new list for n items, of which only the first few are reserved (see RESERVE). */
static inline PyObject *
r_new_list(Py_ssize_t n)
{
    return PyList_New(n < RESERVE ? n : RESERVE);
}

/* n items into ``list`` (from r_new_list(n)); depth: the items' depth. */
static int
r_items(Reader *r, Py_ssize_t n, int depth, PyObject *list)
{
    if (n && depth > r->max_depth)
        return -1;
    Py_ssize_t reserved = PyList_GET_SIZE(list);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = r_object(r, depth);
        if (item == NULL)
            return -1;
        if (i < reserved)
            PyList_SET_ITEM(list, i, item);
        else {
            int err = PyList_Append(list, item);
            Py_DECREF(item);
            if (err < 0)
                return -1;
        }
    }
    return 0;
}

/* Whether every item of ``list`` is an untracked leaf or a Singleton: nothing in it can
 * reach back to the list unless a field of one of them changes, and that sweeps (see
 * retrack_set), so the list may be left untracked (its owner stays tracked). */
static int
only_leaves(const Plan *plan, PyObject *list)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        PyTypeObject *t = Py_TYPE(item);
        if (t == plan->cls[K_SINGLETON].type)
            continue;
        if (!PyObject_IS_GC(item) || PyObject_GC_IsTracked(item))
            return 0;
        if (t != plan->cls[K_STR].type && t != plan->cls[K_BYTES].type && t != plan->cls[K_INT].type &&
            t != plan->cls[K_FLOAT].type && t != plan->cls[K_LONG].type && t != plan->cls[K_COMPLEX].type)
            return 0;
    }
    return 1;
}

/* A container whose model object holds a list ``items`` filled after it is made. */
static PyObject *
r_sequence(Reader *r, int kind, int c, int b, Py_ssize_t n, int depth)
{
    PyObject *list = r_new_list(n);
    if (list == NULL)
        return NULL;
    Py_INCREF(list);
    PyObject *vals[3] = {list, r_code_str(r, c), new_bool(b & 0x80)};
    PyObject *obj = make(&r->plan->cls[kind], vals);
    if (obj == NULL) {
        Py_DECREF(list);
        return NULL;
    }
    if (r_ref(r, b & 0x80, obj) < 0 || r_items(r, n, depth + 1, list) < 0) {
        Py_DECREF(list);
        Py_DECREF(obj);
        return NULL;
    }
    if (r->plan->cls[kind].untrack_items && only_leaves(r->plan, list)) {
        PyObject_GC_UnTrack(list);
        get_state(r->plan->module)->untracked_lists++;
    }
    Py_DECREF(list);
    return obj;
}

static PyObject *
r_long(Reader *r, int b)
{
    if (r->end - r->pos < 4)
        return NULL;
    int32_t n = le32(r->p + r->pos);
    r->pos += 4;
    Py_ssize_t size = n < 0 ? -(Py_ssize_t)n : n;
    if (size > LONG_DIGITS || 2 * size > r->end - r->pos)
        return NULL; /* big longs, and every error: the pure code */
    const unsigned char *d = r->p + r->pos;
    r->pos += 2 * size;
    if (size > 0 && le16(d + 2 * (size - 1)) == 0)
        return NULL; /* unnormalized: the pure code decides */
    PyObject *value = NULL, *sixty = NULL;
    /* 60 bits (four digits) at a time, most significant first: the top chunk holds
       the digits above the last multiple of four */
    Py_ssize_t i = size;
    while (i > 0) {
        Py_ssize_t lo = i == size && size % 4 ? i - size % 4 : i - 4;
        unsigned long long chunk = 0;
        for (Py_ssize_t j = i - 1; j >= lo; j--) {
            uint16_t digit = (uint16_t)le16(d + 2 * j);
            if (digit > 0x7FFF)
                goto fail;
            chunk = chunk << 15 | digit;
        }
        PyObject *part = PyLong_FromUnsignedLongLong(chunk);
        if (part == NULL)
            goto fail;
        if (value == NULL)
            value = part;
        else {
            if (sixty == NULL && (sixty = PyLong_FromLong(60)) == NULL) {
                Py_DECREF(part);
                goto fail;
            }
            PyObject *shifted = PyNumber_Lshift(value, sixty);
            Py_SETREF(value, shifted);
            if (value == NULL) {
                Py_DECREF(part);
                goto fail;
            }
            PyObject *ored = PyNumber_Or(value, part);
            Py_DECREF(part);
            Py_SETREF(value, ored);
            if (value == NULL)
                goto fail;
        }
        i = lo;
    }
    Py_XDECREF(sixty);
    if (value == NULL)
        value = PyLong_FromLong(0);
    else if (n < 0) {
        PyObject *neg = PyNumber_Negative(value);
        Py_SETREF(value, neg);
    }
    Py_INCREF(Py_None);
    PyObject *vals[4] = {value, r_code_str(r, 'l'), new_bool(b & 0x80), Py_None};
    return make(&r->plan->cls[K_LONG], vals);
fail:
    Py_XDECREF(value);
    Py_XDECREF(sixty);
    return NULL;
}

/* The (key, value) pairs of a dict or frozendict, up to its '0', into ``list``. */
static int
r_pairs(Reader *r, int depth, PyObject *list)
{
    if (depth + 1 > r->max_depth)
        return -1;
    for (;;) {
        if (r->pos >= r->end)
            return -1;
        if (r->p[r->pos] == 0x30) {
            r->pos++;
            return 0;
        }
        PyObject *key = r_object(r, depth + 1);
        if (key == NULL)
            return -1;
        if (r->pos >= r->end || (r->p[r->pos] & 0x7F) == 0x30) {
            Py_DECREF(key);
            return -1;
        }
        PyObject *val = r_object(r, depth + 1);
        if (val == NULL) {
            Py_DECREF(key);
            return -1;
        }
        PyObject *pair = PyTuple_New(2);
        if (pair == NULL) {
            Py_DECREF(key);
            Py_DECREF(val);
            return -1;
        }
        PyTuple_SET_ITEM(pair, 0, key);
        PyTuple_SET_ITEM(pair, 1, val);
        int err = PyList_Append(list, pair);
        Py_DECREF(pair);
        if (err < 0)
            return -1;
    }
}

static PyObject *
r_dict(Reader *r, int b, int depth)
{
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    Py_INCREF(list);
    PyObject *vals[3] = {list, r_code_str(r, '{'), new_bool(b & 0x80)};
    PyObject *obj = make(&r->plan->cls[K_DICT], vals);
    if (obj == NULL) {
        Py_DECREF(list);
        return NULL;
    }
    if (r_ref(r, b & 0x80, obj) < 0 || r_pairs(r, depth, list) < 0) {
        Py_DECREF(list);
        Py_DECREF(obj);
        return NULL;
    }
    Py_DECREF(list);
    return obj;
}

/* An object whose reference slot is reserved before its parts are read (frozenset,
 * frozendict, slice): its kind, code, and the parts' list. */
static PyObject *
r_reserved(Reader *r, int kind, int b, int depth)
{
    int flag = b & 0x80;
    Py_ssize_t slot = r_reserve(r, flag);
    if (slot == -2)
        return NULL;
    PyObject *obj = NULL;
    if (kind == K_FROZENSET) {
        Py_ssize_t n = r_size(r);
        if (n < 0)
            return NULL;
        PyObject *list = r_new_list(n);
        if (list == NULL)
            return NULL;
        if (r_items(r, n, depth + 1, list) < 0) {
            Py_DECREF(list);
            return NULL;
        }
        PyObject *vals[3] = {list, r_code_str(r, '>'), new_bool(flag)};
        obj = make(&r->plan->cls[K_FROZENSET], vals);
    }
    else if (kind == K_FROZENDICT) {
        PyObject *list = PyList_New(0);
        if (list == NULL)
            return NULL;
        if (r_pairs(r, depth, list) < 0) {
            Py_DECREF(list);
            return NULL;
        }
        PyObject *vals[3] = {list, r_code_str(r, '}'), new_bool(flag)};
        obj = make(&r->plan->cls[K_FROZENDICT], vals);
    }
    else { /* K_SLICE */
        if (depth + 1 > r->max_depth)
            return NULL;
        PyObject *vals[5] = {NULL, NULL, NULL, NULL, NULL};
        for (int i = 0; i < 3; i++) {
            if ((vals[i] = r_object(r, depth + 1)) == NULL) {
                for (int j = 0; j < i; j++)
                    Py_DECREF(vals[j]);
                return NULL;
            }
        }
        vals[F_SL_CODE] = r_code_str(r, ':');
        vals[F_SL_FLAG] = new_bool(flag);
        obj = make(&r->plan->cls[K_SLICE], vals);
    }
    if (obj != NULL)
        r_fill(r, slot, obj);
    return obj;
}

static PyObject *
r_code(Reader *r, int b, int depth)
{
    const Plan *plan = r->plan;
    if (depth + 1 > r->max_depth)
        return NULL;
    Py_ssize_t slot = r_reserve(r, b & 0x80);
    if (slot == -2)
        return NULL;
    PyObject *vals[MAXFIELDS];
    int nv = 0;
    for (int s = 0; s < plan->nsteps; s++) {
        int k = plan->steps[s];
        if (k > 0) {
            for (int i = 0; i < k; i++) {
                PyObject *v = r_object(r, depth + 1);
                if (v == NULL)
                    goto fail;
                vals[nv++] = v;
            }
        }
        else {
            Py_ssize_t need = (Py_ssize_t)-k * plan->int_size;
            if (r->end - r->pos < need)
                goto fail;
            for (int i = 0; i < -k; i++) {
                const unsigned char *q = r->p + r->pos;
                long x = plan->int_size == 2 ? le16(q) : le32(q);
                r->pos += plan->int_size;
                PyObject *v = PyLong_FromLong(x);
                if (v == NULL)
                    goto fail;
                vals[nv++] = v;
            }
        }
    }
    vals[nv++] = new_bool(b & 0x80);
    PyObject *obj = make(&plan->cls[K_CODE], vals);
    if (obj == NULL)
        return NULL;
    r_fill(r, slot, obj);
    return obj;
fail:
    for (int i = 0; i < nv; i++)
        Py_DECREF(vals[i]);
    return NULL;
}

static PyObject *
r_object(Reader *r, int depth)
{
    if (r->pos >= r->end || stack_low_here(r->stack))
        return NULL;
    const Plan *plan = r->plan;
    int b = r->p[r->pos++];
    int flag = b & 0x80;
    PyObject *obj;
    Py_ssize_t n;
    switch (plan->handler[b]) {
    case H_SINGLETON:
        obj = plan->single[b];
        Py_INCREF(obj);
        return obj;
    case H_REF: {
        if (flag || r->end - r->pos < 4)
            return NULL;
        int32_t i = le32(r->p + r->pos);
        if (i < 0 || i >= PyList_GET_SIZE(r->refs))
            return NULL;
        obj = PyList_GET_ITEM(r->refs, i);
        if (obj == Py_None)
            return NULL;
        r->pos += 4;
        Py_INCREF(obj);
        return obj;
    }
    case H_SHORT_ASCII:
        if (r->pos >= r->end)
            return NULL;
        n = r->p[r->pos++];
        if (n > r->end - r->pos)
            return NULL;
        goto latin;
    case H_ASCII:
        if ((n = r_size(r)) < 0)
            return NULL;
    latin: {
        PyObject *vals[3] = {
            PyUnicode_DecodeLatin1((const char *)r->p + r->pos, n, NULL), r_code_str(r, b), new_bool(flag)};
        r->pos += n;
        obj = make(&plan->cls[K_STR], vals);
        break;
    }
    case H_UNICODE: {
        if ((n = r_size(r)) < 0)
            return NULL;
        PyObject *text = PyUnicode_DecodeUTF8((const char *)r->p + r->pos, n, "surrogatepass");
        if (text == NULL)
            return NULL;
        r->pos += n;
        PyObject *vals[3] = {text, r_code_str(r, b), new_bool(flag)};
        obj = make(&plan->cls[K_STR], vals);
        break;
    }
    case H_BYTES: {
        if ((n = r_size(r)) < 0)
            return NULL;
        PyObject *vals[3] = {
            PyBytes_FromStringAndSize((const char *)r->p + r->pos, n), r_code_str(r, 's'), new_bool(flag)};
        r->pos += n;
        obj = make(&plan->cls[K_BYTES], vals);
        break;
    }
    case H_INT: {
        if (r->end - r->pos < 4)
            return NULL;
        PyObject *vals[3] = {PyLong_FromLong(le32(r->p + r->pos)), r_code_str(r, 'i'), new_bool(flag)};
        r->pos += 4;
        obj = make(&plan->cls[K_INT], vals);
        break;
    }
    case H_INT64: {
        if (r->end - r->pos < 8)
            return NULL;
        PyObject *vals[3] = {PyLong_FromLongLong(le64(r->p + r->pos)), r_code_str(r, 'I'), new_bool(flag)};
        r->pos += 8;
        obj = make(&plan->cls[K_INT], vals);
        break;
    }
    case H_LONG:
        obj = r_long(r, b);
        break;
    case H_FLOAT: {
        if (r->end - r->pos < 8)
            return NULL;
        PyObject *vals[3] = {
            PyBytes_FromStringAndSize((const char *)r->p + r->pos, 8), r_code_str(r, 'g'), new_bool(flag)};
        r->pos += 8;
        obj = make(&plan->cls[K_FLOAT], vals);
        break;
    }
    case H_COMPLEX: {
        if (r->end - r->pos < 16)
            return NULL;
        const char *q = (const char *)r->p + r->pos;
        PyObject *vals[4] = {PyBytes_FromStringAndSize(q, 8), PyBytes_FromStringAndSize(q + 8, 8),
                             r_code_str(r, 'y'), new_bool(flag)};
        r->pos += 16;
        obj = make(&plan->cls[K_COMPLEX], vals);
        break;
    }
    case H_SMALL_TUPLE:
        if (r->pos >= r->end)
            return NULL;
        n = r->p[r->pos++];
        return r_sequence(r, K_TUPLE, ')', b, n, depth);
    case H_TUPLE:
        if ((n = r_size(r)) < 0)
            return NULL;
        return r_sequence(r, K_TUPLE, '(', b, n, depth);
    case H_LIST:
        if ((n = r_size(r)) < 0)
            return NULL;
        return r_sequence(r, K_LIST, '[', b, n, depth);
    case H_SET:
        if ((n = r_size(r)) < 0)
            return NULL;
        return r_sequence(r, K_SET, '<', b, n, depth);
    case H_DICT:
        return r_dict(r, b, depth);
    case H_FROZENSET:
        return r_reserved(r, K_FROZENSET, b, depth);
    case H_FROZENDICT:
        return r_reserved(r, K_FROZENDICT, b, depth);
    case H_SLICE:
        return r_reserved(r, K_SLICE, b, depth);
    case H_CODE:
        return r_code(r, b, depth);
    case H_INTERNED2: { /* 2.x 't': an 8-bit string that joins the string table */
        if ((n = r_size(r)) < 0)
            return NULL;
        if (r->strings == NULL && (r->strings = PyList_New(0)) == NULL)
            return NULL;
        PyObject *vals[3] = {
            PyBytes_FromStringAndSize((const char *)r->p + r->pos, n), r_code_str(r, 't'), new_bool(0)};
        r->pos += n;
        obj = make(&plan->cls[K_BYTES], vals);
        if (obj != NULL && PyList_Append(r->strings, obj) < 0)
            Py_CLEAR(obj);
        return obj;
    }
    case H_STRINGREF: { /* 2.x 'R': a string of the table */
        if (r->end - r->pos < 4 || r->strings == NULL)
            return NULL;
        int32_t i = le32(r->p + r->pos);
        if (i < 0 || i >= PyList_GET_SIZE(r->strings))
            return NULL;
        r->pos += 4;
        obj = PyList_GET_ITEM(r->strings, i);
        Py_INCREF(obj);
        return obj;
    }
    default: /* no type code, null, float_text, complex_text: the pure code */
        return NULL;
    }
    if (obj != NULL && r_ref(r, flag, obj) < 0) {
        Py_DECREF(obj);
        return NULL;
    }
    return obj;
}

/* The reader's and writer's depth limit and stack bound on this thread. */
static int
limits(const Plan *plan, uintptr_t *stack)
{
    *stack = stack_limit();
    if (*stack == 0)
        return plan->max_depth < BLIND_DEPTH ? plan->max_depth : BLIND_DEPTH;
    return plan->max_depth;
}

/* read(plan, data: bytes, pos) -> (value, end) or None (the pure-Python reader decides) */
static PyObject *
sp_read(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *capsule;
    Py_buffer buf;
    Py_ssize_t pos;
    if (!PyArg_ParseTuple(args, "Oy*n", &capsule, &buf, &pos))
        return NULL;
    PyObject *result = NULL;
    Plan *plan = get_plan(capsule);
    if (plan == NULL)
        goto done;
    if (pos < 0 || pos > buf.len) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    Reader r;
    r.p = (const unsigned char *)buf.buf;
    r.pos = pos;
    r.end = buf.len;
    r.refs = PyList_New(0);
    r.strings = NULL;
    r.plan = plan;
    r.max_depth = limits(plan, &r.stack);
    if (r.refs == NULL)
        goto done;
    PyObject *value = r_object(&r, 1);
    Py_DECREF(r.refs);
    Py_XDECREF(r.strings);
    if (value == NULL) {
        PyErr_Clear(); /* whatever went wrong, the pure-Python reader says it */
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    result = Py_BuildValue("(Nn)", value, r.pos);
done:
    PyBuffer_Release(&buf);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* Writer                                                                                */

/* Object (by address) -> index: open addressing; indices are given in order 0, 1, ... */
typedef struct {
    PyObject **keys;
    Py_ssize_t *idx;
    Py_ssize_t mask, count;
} PtrMap;

typedef struct {
    char *buf;
    Py_ssize_t len, cap;
    PtrMap refs;            /* flagged objects -> reference index (3.4+) */
    PtrMap strings;         /* 2.x interned strings -> string-table index */
    unsigned char *pending; /* per reference index: still being written */
    Py_ssize_t pcap;
    const Plan *plan;
    int max_depth;
    uintptr_t stack;
#ifdef Py_GIL_DISABLED
    PyObject *keep;         /* strong references to everything read from the model */
#endif
} Writer;

/* What the writer reads from the model.  With the GIL, nothing else runs while it
 * writes (it calls no Python code), so borrowed slots and list items are safe.  Without
 * it, another thread may change the model meanwhile: each field is read through its
 * descriptor (a strong reference) and each list is copied (under the list's lock), and
 * all of it is kept alive in w->keep until the write ends. */
#ifdef Py_GIL_DISABLED
static PyObject *
w_kept(Writer *w, PyObject *o)
{
    if (o == NULL)
        return NULL;
    int err = PyList_Append(w->keep, o);
    Py_DECREF(o);
    return err < 0 ? NULL : o;
}

static PyObject *
w_field(Writer *w, PyObject *v, const ClassInfo *ci, int i)
{
    PyObject *d = ci->descr[i];
    return w_kept(w, Py_TYPE(d)->tp_descr_get(d, v, (PyObject *)Py_TYPE(v)));
}

static PyObject *
w_field_at(Writer *w, PyObject *v, const ClassInfo *ci, Py_ssize_t off)
{
    for (int i = 0; i < ci->n; i++) {
        if (ci->off[i] == off)
            return w_field(w, v, ci, i);
    }
    return NULL;
}

/* A list's items as a tuple or list nobody else changes (``seq`` if it is a tuple). */
static PyObject *
w_stable(Writer *w, PyObject *seq)
{
    if (PyTuple_CheckExact(seq))
        return seq;
    return w_kept(w, PyList_GetSlice(seq, 0, PY_SSIZE_T_MAX));
}
#define FIELD(w, v, ci, i) w_field((w), (v), (ci), (i))
#define FIELD_AT(w, v, ci, off) w_field_at((w), (v), (ci), (off))
#define STABLE(w, seq) w_stable((w), (seq))
#else
#define FIELD(w, v, ci, i) SLOT((v), (ci)->off[i])
#define FIELD_AT(w, v, ci, off) SLOT((v), (off))
#define STABLE(w, seq) (seq)
#endif

static int
w_grow(Writer *w, Py_ssize_t need)
{
    if (w->cap - w->len >= need)
        return 0;
    Py_ssize_t cap = w->cap ? w->cap : 4096;
    while (cap - w->len < need) {
        if (cap > PY_SSIZE_T_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *b = PyMem_Realloc(w->buf, (size_t)cap);
    if (b == NULL)
        return -1;
    w->buf = b;
    w->cap = cap;
    return 0;
}

static inline int
w_bytes(Writer *w, const void *p, Py_ssize_t n)
{
    if (w_grow(w, n) < 0)
        return -1;
    memcpy(w->buf + w->len, p, (size_t)n);
    w->len += n;
    return 0;
}

static inline int
w_byte(Writer *w, int b)
{
    if (w_grow(w, 1) < 0)
        return -1;
    w->buf[w->len++] = (char)b;
    return 0;
}

static inline int
w_u32(Writer *w, uint32_t x)
{
    unsigned char q[4] = {(unsigned char)x, (unsigned char)(x >> 8), (unsigned char)(x >> 16), (unsigned char)(x >> 24)};
    return w_bytes(w, q, 4);
}

static inline size_t
ptr_hash(PyObject *o)
{
    uintptr_t x = (uintptr_t)o;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ULL;
    return (size_t)(x ^ (x >> 29));
}

/* The index of o, or -1. */
static inline Py_ssize_t
map_get(const PtrMap *m, PyObject *o)
{
    if (m->keys == NULL)
        return -1;
    size_t i = ptr_hash(o) & (size_t)m->mask;
    while (m->keys[i] != NULL) {
        if (m->keys[i] == o)
            return m->idx[i];
        i = (i + 1) & (size_t)m->mask;
    }
    return -1;
}

/* Give o (not in the map) the next index. */
static int
map_add(PtrMap *m, PyObject *o)
{
    if (m->keys == NULL || 2 * (m->count + 1) > m->mask + 1) {
        Py_ssize_t size = m->keys ? 2 * (m->mask + 1) : 256;
        PyObject **keys = PyMem_Calloc((size_t)size, sizeof(PyObject *));
        Py_ssize_t *idx = PyMem_Calloc((size_t)size, sizeof(Py_ssize_t));
        if (keys == NULL || idx == NULL) {
            PyMem_Free(keys);
            PyMem_Free(idx);
            return -1;
        }
        for (Py_ssize_t j = 0; m->keys && j <= m->mask; j++) {
            if (m->keys[j] != NULL) {
                size_t i = ptr_hash(m->keys[j]) & (size_t)(size - 1);
                while (keys[i] != NULL)
                    i = (i + 1) & (size_t)(size - 1);
                keys[i] = m->keys[j];
                idx[i] = m->idx[j];
            }
        }
        PyMem_Free(m->keys);
        PyMem_Free(m->idx);
        m->keys = keys;
        m->idx = idx;
        m->mask = size - 1;
    }
    size_t i = ptr_hash(o) & (size_t)m->mask;
    while (m->keys[i] != NULL)
        i = (i + 1) & (size_t)m->mask;
    m->keys[i] = o;
    m->idx[i] = m->count++;
    return 0;
}

/* Give a flagged object the next reference index. */
static int
ref_add(Writer *w, PyObject *o)
{
    Py_ssize_t v = w->refs.count;
    if (map_add(&w->refs, o) < 0)
        return -1;
    if (v >= w->pcap) {
        Py_ssize_t cap = w->pcap ? 2 * w->pcap : 256;
        while (cap <= v)
            cap *= 2;
        unsigned char *p = PyMem_Realloc(w->pending, (size_t)cap);
        if (p == NULL)
            return -1;
        memset(p + w->pcap, 0, (size_t)(cap - w->pcap));
        w->pending = p;
        w->pcap = cap;
    }
    return 0;
}

/* The type byte (FLAG_REF clear) of a value of kind k; -1 bails. */
static inline int
w_code_byte(Writer *w, int k, PyObject *v)
{
    const ClassInfo *ci = &w->plan->cls[k];
    PyObject *code = FIELD_AT(w, v, ci, ci->code_off);
    if (code == NULL || !PyUnicode_CheckExact(code) || PyUnicode_GET_LENGTH(code) != 1)
        return -1;
    Py_UCS4 ch = PyUnicode_READ_CHAR(code, 0);
    if (ch >= 128 || !w->plan->allowed[k][ch])
        return -1;
    return (int)ch;
}

static int w_object(Writer *w, PyObject *v, int depth);

/* Items of a list or tuple at depth ``depth`` (the container's). */
static int
w_items(Writer *w, PyObject *seq, int depth)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n && depth >= w->max_depth)
        return -1;
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (w_object(w, items[i], depth + 1) < 0)
            return -1;
    }
    return 0;
}

static int
w_text(Writer *w, PyObject *raw)
{
    if (raw == NULL || !PyBytes_CheckExact(raw) || PyBytes_GET_SIZE(raw) > 255)
        return -1;
    if (w_byte(w, (int)PyBytes_GET_SIZE(raw)) < 0)
        return -1;
    return w_bytes(w, PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw));
}

static int
w_raw8(Writer *w, PyObject *raw)
{
    if (raw == NULL || !PyBytes_CheckExact(raw) || PyBytes_GET_SIZE(raw) != 8)
        return -1;
    return w_bytes(w, PyBytes_AS_STRING(raw), 8);
}

static int
w_str(Writer *w, PyObject *v, int b, int flag)
{
    PyObject *text = FIELD(w, v, &w->plan->cls[K_STR], F_VALUE);
    if (text == NULL || !PyUnicode_CheckExact(text))
        return -1;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return -1;
#endif
    const char *data;
    Py_ssize_t n;
    PyObject *encoded = NULL;
    if (b == 'u' || b == 't') {
        if (PyUnicode_IS_ASCII(text)) {
            data = (const char *)PyUnicode_DATA(text);
            n = PyUnicode_GET_LENGTH(text);
        }
        else {
            encoded = PyUnicode_AsEncodedString(text, "utf-8", "surrogatepass");
            if (encoded == NULL)
                return -1;
            data = PyBytes_AS_STRING(encoded);
            n = PyBytes_GET_SIZE(encoded);
        }
    }
    else { /* a, A, z, Z: Latin-1 */
        if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND)
            return -1;
        data = (const char *)PyUnicode_DATA(text);
        n = PyUnicode_GET_LENGTH(text);
    }
    int err;
    if (b == 'z' || b == 'Z') {
        err = n > 255 || w_byte(w, b | flag) < 0 || w_byte(w, (int)n) < 0;
    }
    else {
        err = n > INT32_MAX || w_byte(w, b | flag) < 0 || w_u32(w, (uint32_t)n) < 0;
    }
    err = err || w_bytes(w, data, n) < 0;
    Py_XDECREF(encoded);
    return err ? -1 : 0;
}

static int
w_int(Writer *w, PyObject *v, int b, int flag)
{
    PyObject *value = FIELD(w, v, &w->plan->cls[K_INT], F_VALUE);
    if (value == NULL || !PyLong_CheckExact(value))
        return -1;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred()))
        return -1;
    if (w_byte(w, b | flag) < 0)
        return -1;
    if (b == 'i') {
        if (x < INT32_MIN || x > INT32_MAX)
            return -1;
        return w_u32(w, (uint32_t)(int32_t)x);
    }
    return w_u32(w, (uint32_t)(uint64_t)x) < 0 ? -1 : w_u32(w, (uint32_t)((uint64_t)x >> 32));
}

static int
w_long(Writer *w, PyObject *v, int b, int flag)
{
    const ClassInfo *ci = &w->plan->cls[K_LONG];
    PyObject *value = FIELD(w, v, ci, F_VALUE);
    if (value == NULL || !PyLong_CheckExact(value) || FIELD(w, v, ci, F_SIZE) != Py_None)
        return -1;
    int negative = PyObject_RichCompareBool(value, Py_False, Py_LT);
    if (negative < 0)
        return -1;
    PyObject *mag = PyNumber_Absolute(value);
    PyObject *sixty = PyLong_FromLong(60);
    unsigned char digits[2 * LONG_DIGITS];
    int size = 0, err = -1;
    if (mag == NULL || sixty == NULL)
        goto done;
    for (;;) {
        int zero = PyObject_Not(mag);
        if (zero < 0)
            goto done;
        if (zero)
            break;
        unsigned long long chunk = PyLong_AsUnsignedLongLongMask(mag) & ((1ULL << 60) - 1);
        if (chunk == (unsigned long long)-1 && PyErr_Occurred())
            goto done;
        PyObject *rest = PyNumber_Rshift(mag, sixty);
        Py_SETREF(mag, rest);
        if (mag == NULL)
            goto done;
        for (int i = 0; i < 4; i++) {
            if (size == LONG_DIGITS)
                goto done;
            digits[2 * size] = (unsigned char)(chunk & 0xFF);
            digits[2 * size + 1] = (unsigned char)((chunk >> 8) & 0x7F);
            chunk >>= 15;
            size++;
        }
    }
    while (size > 0 && digits[2 * size - 2] == 0 && digits[2 * size - 1] == 0)
        size--; /* the last chunk's unused top digits */
    err = (w_byte(w, b | flag) < 0 || w_u32(w, (uint32_t)(negative ? -size : size)) < 0 ||
           w_bytes(w, digits, 2 * size) < 0) ? -1 : 0;
done:
    Py_XDECREF(mag);
    Py_XDECREF(sixty);
    return err;
}

/* The pairs of a dict or frozendict, then its '0'. */
static int
w_pairs(Writer *w, PyObject *items, int depth)
{
    if (items == NULL || !PyList_CheckExact(items) || depth >= w->max_depth)
        return -1;
    if ((items = STABLE(w, items)) == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2)
            return -1;
        if (w_object(w, PyTuple_GET_ITEM(pair, 0), depth + 1) < 0 ||
            w_object(w, PyTuple_GET_ITEM(pair, 1), depth + 1) < 0)
            return -1;
    }
    return w_byte(w, 0x30);
}

static int
w_code(Writer *w, PyObject *v, int flag, Py_ssize_t idx, int depth)
{
    const Plan *plan = w->plan;
    const ClassInfo *ci = &plan->cls[K_CODE];
    if (depth >= w->max_depth || w_byte(w, plan->code_type_byte | flag) < 0)
        return -1;
    if (idx >= 0)
        w->pending[idx] = 1;
    int f = 0;
    long lo = plan->int_size == 2 ? -0x8000L : -0x80000000L;
    long hi = plan->int_size == 2 ? 0x7FFFL : 0x7FFFFFFFL;
    for (int s = 0; s < plan->nsteps; s++) {
        int k = plan->steps[s];
        if (k > 0) {
            for (int i = 0; i < k; i++) {
                if (w_object(w, FIELD(w, v, ci, f++), depth + 1) < 0)
                    return -1;
            }
        }
        else {
            for (int i = 0; i < -k; i++) {
                PyObject *x = FIELD(w, v, ci, f++);
                if (x == NULL || !PyLong_CheckExact(x))
                    return -1;
                int overflow;
                long n = PyLong_AsLongAndOverflow(x, &overflow);
                if (overflow || n < lo || n > hi)
                    return -1;
                unsigned char q[4] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                                      (unsigned char)(n >> 24)};
                if (w_bytes(w, q, plan->int_size) < 0)
                    return -1;
            }
        }
    }
    if (idx >= 0)
        w->pending[idx] = 0;
    return 0;
}

static int
w_object(Writer *w, PyObject *v, int depth)
{
    const Plan *plan = w->plan;
    if (v == NULL || stack_low_here(w->stack))
        return -1;
    PyTypeObject *t = Py_TYPE(v);
    int k;
    if (t == plan->cls[K_STR].type)
        k = K_STR;
    else if (t == plan->cls[K_TUPLE].type)
        k = K_TUPLE;
    else if (t == plan->cls[K_BYTES].type)
        k = K_BYTES;
    else if (t == plan->cls[K_SINGLETON].type)
        k = K_SINGLETON;
    else if (t == plan->cls[K_INT].type)
        k = K_INT;
    else if (t == plan->cls[K_CODE].type)
        k = K_CODE;
    else {
        for (k = 0; k < NKINDS; k++) {
            if (t == plan->cls[k].type)
                break;
        }
        if (k == NKINDS)
            return -1;
    }
    const ClassInfo *ci = &plan->cls[k];
    PyObject *f = FIELD_AT(w, v, ci, ci->flag_off);
    if (f != Py_True && f != Py_False)
        return -1;
    int flag = 0;
    if (f == Py_True) {
        if (!plan->refs_enabled)
            return -1;
        flag = 0x80;
    }
    if (k == K_SINGLETON) {
        int b = w_code_byte(w, k, v);
        return b < 0 ? -1 : w_byte(w, b | flag);
    }
    Py_ssize_t idx = -1;
    if (flag) {
        idx = map_get(&w->refs, v);
        if (idx >= 0) {
            if (w->pending[idx])
                return -1;
            return w_byte(w, 0x72) < 0 ? -1 : w_u32(w, (uint32_t)idx);
        }
        idx = w->refs.count;
        if (ref_add(w, v) < 0)
            return -1;
    }
    if (k == K_CODE)
        return w_code(w, v, flag, idx, depth);
    int b = w_code_byte(w, k, v);
    if (b < 0)
        return -1;
    switch (k) {
    case K_STR:
        return w_str(w, v, b, flag);
    case K_BYTES: {
        PyObject *raw = FIELD(w, v, ci, F_VALUE);
        if (raw == NULL || !PyBytes_CheckExact(raw) || PyBytes_GET_SIZE(raw) > INT32_MAX)
            return -1;
        if (b == 't') { /* 2.x interned: 't' the first time, then 'R' and its index */
            Py_ssize_t i = map_get(&w->strings, v);
            if (i >= 0)
                return w_byte(w, 'R') < 0 ? -1 : w_u32(w, (uint32_t)i);
            if (map_add(&w->strings, v) < 0)
                return -1;
        }
        if (w_byte(w, b | flag) < 0 || w_u32(w, (uint32_t)PyBytes_GET_SIZE(raw)) < 0)
            return -1;
        return w_bytes(w, PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw));
    }
    case K_INT:
        return w_int(w, v, b, flag);
    case K_LONG:
        return w_long(w, v, b, flag);
    case K_FLOAT:
        if (w_byte(w, b | flag) < 0)
            return -1;
        return b == 'g' ? w_raw8(w, FIELD(w, v, ci, F_RAW)) : w_text(w, FIELD(w, v, ci, F_RAW));
    case K_COMPLEX:
        if (w_byte(w, b | flag) < 0)
            return -1;
        if (b == 'y')
            return w_raw8(w, FIELD(w, v, ci, F_REAL)) < 0 ? -1 : w_raw8(w, FIELD(w, v, ci, F_IMAG));
        return w_text(w, FIELD(w, v, ci, F_REAL)) < 0 ? -1 : w_text(w, FIELD(w, v, ci, F_IMAG));
    case K_DICT:
        return w_byte(w, b | flag) < 0 ? -1 : w_pairs(w, FIELD(w, v, ci, F_ITEMS), depth);
    case K_FROZENDICT:
    case K_SLICE: {
        if (w_byte(w, b | flag) < 0)
            return -1;
        if (idx >= 0)
            w->pending[idx] = 1;
        int err;
        if (k == K_FROZENDICT)
            err = w_pairs(w, FIELD(w, v, ci, F_ITEMS), depth);
        else {
            err = depth >= w->max_depth ? -1 : 0;
            for (int i = F_START; i <= F_STEP && err == 0; i++)
                err = w_object(w, FIELD(w, v, ci, i), depth + 1);
        }
        if (err < 0)
            return -1;
        if (idx >= 0)
            w->pending[idx] = 0;
        return 0;
    }
    case K_TUPLE:
    case K_LIST:
    case K_SET:
    case K_FROZENSET: {
        PyObject *items = FIELD(w, v, ci, F_ITEMS);
        if (items == NULL || !(PyList_CheckExact(items) || PyTuple_CheckExact(items)))
            return -1;
        if ((items = STABLE(w, items)) == NULL)
            return -1;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
        if (w_byte(w, b | flag) < 0)
            return -1;
        if (b == ')') {
            if (n > 255 || w_byte(w, (int)n) < 0)
                return -1;
        }
        else if (n > INT32_MAX || w_u32(w, (uint32_t)n) < 0)
            return -1;
        if (k == K_FROZENSET && idx >= 0)
            w->pending[idx] = 1;
        if (w_items(w, items, depth) < 0)
            return -1;
        if (k == K_FROZENSET && idx >= 0)
            w->pending[idx] = 0;
        return 0;
    }
    default:
        return -1;
    }
}

/* write(plan, value) -> bytes or None (the pure-Python writer decides) */
static PyObject *
sp_write(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *capsule, *value;
    if (!PyArg_ParseTuple(args, "OO", &capsule, &value))
        return NULL;
    Plan *plan = get_plan(capsule);
    if (plan == NULL)
        return NULL;
    Writer w;
    memset(&w, 0, sizeof w);
    w.plan = plan;
    w.max_depth = limits(plan, &w.stack);
    int err = 0;
#ifdef Py_GIL_DISABLED
    if ((w.keep = PyList_New(0)) == NULL)
        return NULL;
    Py_INCREF(value);
    if (PyList_Append(w.keep, value) < 0)
        err = -1;
    Py_DECREF(value);
#endif
    if (err == 0)
        err = w_object(&w, value, 1);
    PyObject *result;
    if (err < 0) {
        PyErr_Clear(); /* whatever went wrong, the pure-Python writer says it */
        result = Py_None;
        Py_INCREF(result);
    }
    else
        result = PyBytes_FromStringAndSize(w.buf, w.len);
    PyMem_Free(w.buf);
    PyMem_Free(w.refs.keys);
    PyMem_Free(w.refs.idx);
    PyMem_Free(w.strings.keys);
    PyMem_Free(w.strings.idx);
    PyMem_Free(w.pending);
#ifdef Py_GIL_DISABLED
    Py_DECREF(w.keep);
#endif
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* Header scan                                                                           */

#ifndef MS_WINDOWS
/* heads(paths: list[str], size) -> list: for each path, its first ``size`` bytes (fewer
 * if the file is shorter) or the OSError that opening or reading it raised.  What
 * scan_headers does per file, without a Python call per system call. */
static PyObject *
heads(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *paths;
    int size;
    if (!PyArg_ParseTuple(args, "O!i", &PyList_Type, &paths, &size))
        return NULL;
    if (size < 0 || size > 64) {
        PyErr_SetString(PyExc_ValueError, "size must be 0-64");
        return NULL;
    }
    /* a private copy: the caller's list may change while the GIL is released */
    paths = PyList_GetSlice(paths, 0, PY_SSIZE_T_MAX);
    if (paths == NULL)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(paths);
    PyObject *out = PyList_New(n);
    if (out == NULL) {
        Py_DECREF(paths);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *path = PyList_GET_ITEM(paths, i), *encoded = NULL, *item;
        if (!PyUnicode_FSConverter(path, &encoded)) {
            Py_DECREF(out);
            Py_DECREF(paths);
            return NULL;
        }
        char buf[64];
        ssize_t got = -1;
        int fd, err = 0;
        Py_BEGIN_ALLOW_THREADS
        do {
            fd = open(PyBytes_AS_STRING(encoded), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  /* a FIFO never blocks */
        } while (fd < 0 && errno == EINTR);
        if (fd < 0)
            err = errno;
        else {
            Py_ssize_t have = 0;
            while (have < size) {
                got = read(fd, buf + have, (size_t)(size - have));
                if (got < 0 && errno == EINTR)
                    continue;
                if (got <= 0)
                    break;
                have += got;
            }
            if (got < 0)
                err = errno;
            got = have;
            close(fd);
        }
        Py_END_ALLOW_THREADS
        Py_DECREF(encoded);
        if (err) {
            errno = err;
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
#if PY_VERSION_HEX >= 0x030C0000
            item = PyErr_GetRaisedException();
#else
            PyObject *type, *tb;
            PyErr_Fetch(&type, &item, &tb);
            PyErr_NormalizeException(&type, &item, &tb);
            if (item != NULL && tb != NULL)
                PyException_SetTraceback(item, tb);
            Py_XDECREF(type);
            Py_XDECREF(tb);
#endif
        }
        else
            item = PyBytes_FromStringAndSize(buf, got);
        if (item == NULL) {
            Py_DECREF(out);
            Py_DECREF(paths);
            return NULL;
        }
        PyList_SET_ITEM(out, i, item);
    }
    Py_DECREF(paths);
    return out;
}
#endif

/* ------------------------------------------------------------------------------------ */
/* The module                                                                            */

static PyMethodDef methods[] = {
    {"make_plan", make_plan, METH_VARARGS, "A plan for one format (see pycfile/_accel.py)."},
    {"read", sp_read, METH_VARARGS, "read(plan, data, pos) -> (value, end), or None to fall back."},
    {"write", sp_write, METH_VARARGS, "write(plan, value) -> bytes, or None to fall back."},
#ifndef MS_WINDOWS
    {"heads", heads, METH_VARARGS, "heads(paths, size) -> [first size bytes or OSError for each path]."},
#endif
    {NULL, NULL, 0, NULL},
};

static PyObject *
names_tuple(const char *const *names, int n)
{
    PyObject *t = PyTuple_New(n);
    for (int i = 0; t != NULL && i < n; i++) {
        PyObject *s = names[i] != NULL ? PyUnicode_FromString(names[i]) : (Py_INCREF(Py_None), Py_None);
        if (s == NULL)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, i, s);
    }
    return t;
}

static int
add_object(PyObject *module, const char *name, PyObject *value)
{
    if (value == NULL)
        return -1;
    int err = PyModule_AddObject(module, name, value);
    if (err < 0)
        Py_DECREF(value);
    return err;
}

static int
exec_module(PyObject *module)
{
    State *st = get_state(module);
    for (int c = 1; c < 128; c++) {
        char s[2] = {(char)c, 0};
        if ((st->code_str[c] = PyUnicode_InternFromString(s)) == NULL)
            return -1;
    }
    st->retrack_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &retrack_spec, NULL);
    if (st->retrack_type == NULL || (st->holders = PyDict_New()) == NULL)
        return -1;
    PyObject *fields = PyTuple_New(NKINDS);
    for (int k = 0; fields != NULL && k < NKINDS; k++) {
        int n = 0;
        PyObject *t = Py_None;
        if (KIND_FIELDS[k] != NULL) {
            while (KIND_FIELDS[k][n] != NULL)
                n++;
            t = names_tuple(KIND_FIELDS[k], n);
        }
        else
            Py_INCREF(t);
        if (t == NULL)
            Py_CLEAR(fields);
        else
            PyTuple_SET_ITEM(fields, k, t);
    }
    Py_INCREF(st->retrack_type);
    if (add_object(module, "HANDLERS", names_tuple(HANDLER_NAMES, NHANDLERS)) < 0 ||
        add_object(module, "KINDS", names_tuple(KIND_NAMES, NKINDS)) < 0 ||
        add_object(module, "FIELDS", fields) < 0 ||
        add_object(module, "RetrackingMember", (PyObject *)st->retrack_type) < 0 ||
        add_object(module, "MAX_DEPTH", PyLong_FromLong(MAXDEPTH)) < 0)
        return -1;
    return 0;
}

static int
state_traverse(PyObject *module, visitproc visit, void *arg)
{
    State *st = get_state(module);
    if (st == NULL)
        return 0;
    Py_VISIT(st->retrack_type);
    Py_VISIT(st->holders);
    return 0;
}

static int
state_clear(PyObject *module)
{
    State *st = get_state(module);
    if (st == NULL)
        return 0;
    for (int c = 0; c < 128; c++)
        Py_CLEAR(st->code_str[c]);
    Py_CLEAR(st->retrack_type);
    Py_CLEAR(st->holders);
    return 0;
}

static void
state_free(void *module)
{
    state_clear((PyObject *)module);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, (void *)exec_module},
#ifdef Py_mod_multiple_interpreters
    /* no C globals but the per-thread stack bounds: each interpreter has its own state */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    /* safe without the GIL: see the writer's FIELD and STABLE */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "pycfile._speedups",
    "Optional C accelerator of pycfile's marshal reader and writer.",
    sizeof(State),
    methods,
    slots,
    state_traverse,
    state_clear,
    state_free,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&module_def);
}
