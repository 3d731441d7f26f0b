/* Optional accelerator for pycfile's marshal reader and writer.
 *
 * The pure-Python reader and writer (pycfile/_reader.py, pycfile/_writer.py) are the
 * reference.  This module does the common case faster and gives up on everything else:
 * read() and write() return None ("bail") for any input they do not handle -- an error,
 * an unusual type code, a value out of range, a deep nest -- and the caller then runs the
 * pure-Python code on the same input from the start, which gives the answer or the error
 * with its offset.  So this module never decides what is valid; it only has to build,
 * for what it accepts, exactly the model (or bytes) the pure-Python code builds.
 *
 * Model objects are attrs slots classes.  They are made the way their attrs __init__
 * makes them -- every slot set, no validators, converters or hooks (make_plan checks) --
 * but directly: tp_alloc, then each slot written at its member descriptor's offset.
 * Which classes, which fields, which type codes each version has: all of it comes from
 * the Python side in make_plan(), which reads it from the pure-Python plans.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>
#ifndef MS_WINDOWS
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#endif

/* Kinds of model classes, in the order the Python side passes them. */
enum {
    K_SINGLETON, K_INT, K_LONG, K_FLOAT, K_COMPLEX, K_BYTES, K_STR,
    K_TUPLE, K_LIST, K_DICT, K_SET, K_FROZENSET, K_CODE, NKINDS
};

/* Reader handlers per type byte (the Python side maps its handler names to these). */
enum {
    H_BAIL, H_SINGLE, H_INT32, H_INT64, H_LONG, H_FLOAT, H_COMPLEX, H_BYTES, H_UTF8,
    H_LATIN4, H_LATIN1, H_REF, H_TUPLE, H_SMALLTUPLE, H_LIST, H_DICT, H_SET,
    H_FROZENSET, H_CODE, H_INTERNED2, H_STRINGREF, NHANDLERS
};

#define MAXFIELDS 40
#define MAXSTEPS 16
/* Nesting handled here; deeper input goes to the pure-Python code (keeps the C stack small). */
#define MAXDEPTH 400
/* Longs of at most this many 15-bit digits; bigger ones go to the pure-Python code. */
#define LONG_DIGITS 64

typedef struct {
    PyTypeObject *type; /* strong reference */
    int n;
    Py_ssize_t off[MAXFIELDS];
    Py_ssize_t code_off, flag_off; /* the slots of ``code`` and ``flag_ref`` (0: none) */
} ClassInfo;

typedef struct {
    unsigned char handler[256];
    PyObject *single[256];        /* strong references (or NULL) */
    ClassInfo cls[NKINDS];
    int has_code;
    int nsteps;
    int steps[MAXSTEPS];          /* >0: that many object fields; <0: that many int fields */
    int int_size;                 /* 2 or 4 */
    int code_type_byte;           /* 'c' or 'C' */
    int max_depth;                /* deepest depth (as the pure code counts it) accepted */
    int refs_enabled;
    unsigned char allowed[NKINDS][128];
} Plan;

static PyObject *CODE_STR[128];   /* one-character strings for the type codes */

#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))

/* ------------------------------------------------------------------------------------ */
/* Plans                                                                                 */

static void
plan_free(PyObject *capsule)
{
    Plan *plan = (Plan *)PyCapsule_GetPointer(capsule, "pycfile._speedups.Plan");
    if (plan == NULL) {
        PyErr_Clear();
        return;
    }
    for (int i = 0; i < 256; i++)
        Py_XDECREF(plan->single[i]);
    for (int k = 0; k < NKINDS; k++)
        Py_XDECREF(plan->cls[k].type);
    PyMem_Free(plan);
}

/* The slot offsets of ``names`` in ``type``; fails unless each is a plain object slot. */
static int
class_info(ClassInfo *ci, PyObject *type, PyObject *names)
{
    if (!PyType_Check(type) || !PyTuple_Check(names)) {
        PyErr_SetString(PyExc_TypeError, "expected (type, names)");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    if (n > MAXFIELDS) {
        PyErr_SetString(PyExc_ValueError, "too many fields");
        return -1;
    }
    PyTypeObject *tp = (PyTypeObject *)type;
    if (tp->tp_alloc == NULL || tp->tp_dictoffset != 0) {
        PyErr_SetString(PyExc_TypeError, "not a slots class");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyObject_GetAttr(type, PyTuple_GET_ITEM(names, i));
        if (d == NULL)
            return -1;
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            Py_DECREF(d);
            PyErr_SetString(PyExc_TypeError, "field is not a slot");
            return -1;
        }
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        int ok = m->type == T_OBJECT_EX && !(m->flags & READONLY);
        ci->off[i] = m->offset;
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(names, i), "code") == 0)
            ci->code_off = m->offset;
        else if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(names, i), "flag_ref") == 0)
            ci->flag_off = m->offset;
        Py_DECREF(d);
        if (!ok) {
            PyErr_SetString(PyExc_TypeError, "field is not a writable object slot");
            return -1;
        }
    }
    Py_INCREF(type);
    ci->type = tp;
    ci->n = (int)n;
    return 0;
}

/* make_plan(handlers: bytes[256], singles: tuple[256], classes: tuple[NKINDS],
 *           steps: tuple[int], int_size, code_type_byte, max_depth, refs_enabled,
 *           allowed: tuple[NKINDS] of str) -> capsule
 * classes[k] is (type, field names in __init__ order) or None (no code layout). */
static PyObject *
make_plan(PyObject *self, PyObject *args)
{
    PyObject *handlers, *singles, *classes, *steps, *allowed;
    int int_size, code_type_byte, max_depth, refs_enabled;
    if (!PyArg_ParseTuple(args, "SO!O!O!iiiiO!", &handlers, &PyTuple_Type, &singles,
                          &PyTuple_Type, &classes, &PyTuple_Type, &steps, &int_size,
                          &code_type_byte, &max_depth, &refs_enabled, &PyTuple_Type, &allowed))
        return NULL;
    if (PyBytes_GET_SIZE(handlers) != 256 || PyTuple_GET_SIZE(singles) != 256 ||
        PyTuple_GET_SIZE(classes) != NKINDS || PyTuple_GET_SIZE(allowed) != NKINDS ||
        PyTuple_GET_SIZE(steps) > MAXSTEPS || (int_size != 2 && int_size != 4)) {
        PyErr_SetString(PyExc_ValueError, "bad plan");
        return NULL;
    }
    Plan *plan = (Plan *)PyMem_Calloc(1, sizeof(Plan));
    if (plan == NULL)
        return PyErr_NoMemory();
    PyObject *capsule = PyCapsule_New(plan, "pycfile._speedups.Plan", plan_free);
    if (capsule == NULL) {
        PyMem_Free(plan);
        return NULL;
    }
    const unsigned char *h = (const unsigned char *)PyBytes_AS_STRING(handlers);
    for (int i = 0; i < 256; i++) {
        if (h[i] >= NHANDLERS)
            goto bad;
        plan->handler[i] = h[i];
        PyObject *s = PyTuple_GET_ITEM(singles, i);
        if (s != Py_None) {
            Py_INCREF(s);
            plan->single[i] = s;
        }
        else if (h[i] == H_SINGLE)
            goto bad;
    }
    for (int k = 0; k < NKINDS; k++) {
        PyObject *c = PyTuple_GET_ITEM(classes, k);
        if (c == Py_None && k == K_CODE)
            continue;
        if (!PyTuple_Check(c) || PyTuple_GET_SIZE(c) != 2)
            goto bad;
        if (class_info(&plan->cls[k], PyTuple_GET_ITEM(c, 0), PyTuple_GET_ITEM(c, 1)) < 0) {
            Py_DECREF(capsule);
            return NULL;
        }
        if (!plan->cls[k].flag_off || (k != K_CODE && !plan->cls[k].code_off))
            goto bad;
        if (k == K_CODE)
            plan->has_code = 1;
        PyObject *a = PyTuple_GET_ITEM(allowed, k);
        if (!PyUnicode_Check(a))
            goto bad;
        for (Py_ssize_t j = 0; j < PyUnicode_GET_LENGTH(a); j++) {
            Py_UCS4 ch = PyUnicode_READ_CHAR(a, j);
            if (ch >= 128)
                goto bad;
            plan->allowed[k][ch] = 1;
        }
    }
    plan->nsteps = (int)PyTuple_GET_SIZE(steps);
    int nfields = 0;
    for (int i = 0; i < plan->nsteps; i++) {
        long s = PyLong_AsLong(PyTuple_GET_ITEM(steps, i));
        if (s == -1 && PyErr_Occurred()) {
            Py_DECREF(capsule);
            return NULL;
        }
        if (s == 0 || s > MAXFIELDS || s < -MAXFIELDS)
            goto bad;
        plan->steps[i] = (int)s;
        nfields += s > 0 ? (int)s : (int)-s;
    }
    if (plan->has_code && nfields + 1 != plan->cls[K_CODE].n)
        goto bad;
    plan->int_size = int_size;
    plan->code_type_byte = code_type_byte;
    plan->max_depth = max_depth < MAXDEPTH ? max_depth : MAXDEPTH;
    plan->refs_enabled = refs_enabled;
    return capsule;
bad:
    Py_DECREF(capsule);
    PyErr_SetString(PyExc_ValueError, "bad plan");
    return NULL;
}

static Plan *
get_plan(PyObject *capsule)
{
    return (Plan *)PyCapsule_GetPointer(capsule, "pycfile._speedups.Plan");
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

static inline PyObject *
code_str(int b)
{
    PyObject *s = CODE_STR[b & 0x7F];
    Py_XINCREF(s);
    return s;
}

/* ------------------------------------------------------------------------------------ */
/* Reader                                                                                */

typedef struct {
    const unsigned char *p;
    Py_ssize_t pos, end;
    PyObject *refs; /* list; Py_None marks a reserved slot */
    PyObject *strings; /* 2.x interned strings (list), made on first use */
    const Plan *plan;
} Reader;

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

/* n items into a new list (depth: the items' depth). */
static PyObject *
r_items(Reader *r, Py_ssize_t n, int depth, PyObject *list)
{
    if (n && depth > r->plan->max_depth)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = r_object(r, depth);
        if (item == NULL)
            return NULL;
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

/* A container whose model object holds a list ``items`` filled after it is made. */
static PyObject *
r_sequence(Reader *r, int kind, int b, Py_ssize_t n, int depth)
{
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    Py_INCREF(list);
    PyObject *vals[3] = {list, code_str(b), new_bool(b & 0x80)};
    PyObject *obj = make(&r->plan->cls[kind], vals);
    if (obj == NULL) {
        Py_DECREF(list);
        return NULL;
    }
    if (r_ref(r, b & 0x80, obj) < 0 || r_items(r, n, depth + 1, list) == NULL) {
        Py_DECREF(list);
        Py_DECREF(obj);
        return NULL;
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
    PyObject *vals[4] = {value, code_str(b), new_bool(b & 0x80), Py_None};
    return make(&r->plan->cls[K_LONG], vals);
fail:
    Py_XDECREF(value);
    Py_XDECREF(sixty);
    return NULL;
}

static PyObject *
r_dict(Reader *r, int b, int depth)
{
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    Py_INCREF(list);
    PyObject *vals[3] = {list, code_str(b), new_bool(b & 0x80)};
    PyObject *obj = make(&r->plan->cls[K_DICT], vals);
    if (obj == NULL) {
        Py_DECREF(list);
        return NULL;
    }
    if (r_ref(r, b & 0x80, obj) < 0 || depth + 1 > r->plan->max_depth)
        goto fail;
    for (;;) {
        if (r->pos >= r->end)
            goto fail;
        int c = r->p[r->pos];
        if (c == 0x30) {
            r->pos++;
            break;
        }
        PyObject *key = r_object(r, depth + 1);
        if (key == NULL)
            goto fail;
        if (r->pos >= r->end || (r->p[r->pos] & 0x7F) == 0x30) {
            Py_DECREF(key);
            goto fail;
        }
        PyObject *val = r_object(r, depth + 1);
        if (val == NULL) {
            Py_DECREF(key);
            goto fail;
        }
        PyObject *pair = PyTuple_New(2);
        if (pair == NULL) {
            Py_DECREF(key);
            Py_DECREF(val);
            goto fail;
        }
        PyTuple_SET_ITEM(pair, 0, key);
        PyTuple_SET_ITEM(pair, 1, val);
        int err = PyList_Append(list, pair);
        Py_DECREF(pair);
        if (err < 0)
            goto fail;
    }
    Py_DECREF(list);
    return obj;
fail:
    Py_DECREF(list);
    Py_DECREF(obj);
    return NULL;
}

static PyObject *
r_code(Reader *r, int b, int depth)
{
    const Plan *plan = r->plan;
    if (!plan->has_code || depth + 1 > plan->max_depth)
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
    if (r->pos >= r->end)
        return NULL;
    const Plan *plan = r->plan;
    int b = r->p[r->pos++];
    int flag = b & 0x80;
    PyObject *obj;
    Py_ssize_t n;
    switch (plan->handler[b]) {
    case H_SINGLE:
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
    case H_LATIN1:
        if (r->pos >= r->end)
            return NULL;
        n = r->p[r->pos++];
        if (n > r->end - r->pos)
            return NULL;
        goto latin;
    case H_LATIN4:
        if ((n = r_size(r)) < 0)
            return NULL;
    latin: {
        PyObject *vals[3] = {
            PyUnicode_DecodeLatin1((const char *)r->p + r->pos, n, NULL), code_str(b), new_bool(flag)};
        r->pos += n;
        obj = make(&plan->cls[K_STR], vals);
        break;
    }
    case H_UTF8: {
        if ((n = r_size(r)) < 0)
            return NULL;
        PyObject *text = PyUnicode_DecodeUTF8((const char *)r->p + r->pos, n, "surrogatepass");
        if (text == NULL) {
            PyErr_Clear();
            return NULL;
        }
        r->pos += n;
        PyObject *vals[3] = {text, code_str(b), new_bool(flag)};
        obj = make(&plan->cls[K_STR], vals);
        break;
    }
    case H_BYTES: {
        if ((n = r_size(r)) < 0)
            return NULL;
        PyObject *vals[3] = {
            PyBytes_FromStringAndSize((const char *)r->p + r->pos, n), code_str(b), new_bool(flag)};
        r->pos += n;
        obj = make(&plan->cls[K_BYTES], vals);
        break;
    }
    case H_INT32: {
        if (r->end - r->pos < 4)
            return NULL;
        PyObject *vals[3] = {PyLong_FromLong(le32(r->p + r->pos)), code_str(b), new_bool(flag)};
        r->pos += 4;
        obj = make(&plan->cls[K_INT], vals);
        break;
    }
    case H_INT64: {
        if (r->end - r->pos < 8)
            return NULL;
        PyObject *vals[3] = {PyLong_FromLongLong(le64(r->p + r->pos)), code_str(b), new_bool(flag)};
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
            PyBytes_FromStringAndSize((const char *)r->p + r->pos, 8), code_str(b), new_bool(flag)};
        r->pos += 8;
        obj = make(&plan->cls[K_FLOAT], vals);
        break;
    }
    case H_COMPLEX: {
        if (r->end - r->pos < 16)
            return NULL;
        const char *q = (const char *)r->p + r->pos;
        PyObject *vals[4] = {PyBytes_FromStringAndSize(q, 8), PyBytes_FromStringAndSize(q + 8, 8),
                             code_str(b), new_bool(flag)};
        r->pos += 16;
        obj = make(&plan->cls[K_COMPLEX], vals);
        break;
    }
    case H_SMALLTUPLE:
        if (r->pos >= r->end)
            return NULL;
        n = r->p[r->pos++];
        return r_sequence(r, K_TUPLE, b, n, depth);
    case H_TUPLE:
        if ((n = r_size(r)) < 0)
            return NULL;
        return r_sequence(r, K_TUPLE, b, n, depth);
    case H_LIST:
        if ((n = r_size(r)) < 0)
            return NULL;
        return r_sequence(r, K_LIST, b, n, depth);
    case H_SET:
        if ((n = r_size(r)) < 0)
            return NULL;
        return r_sequence(r, K_SET, b, n, depth);
    case H_DICT:
        return r_dict(r, b, depth);
    case H_FROZENSET: {
        Py_ssize_t slot = r_reserve(r, flag);
        if (slot == -2 || (n = r_size(r)) < 0)
            return NULL;
        PyObject *list = PyList_New(n);
        if (list == NULL)
            return NULL;
        if (r_items(r, n, depth + 1, list) == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyObject *vals[3] = {list, code_str(b), new_bool(flag)};
        obj = make(&plan->cls[K_FROZENSET], vals);
        if (obj != NULL)
            r_fill(r, slot, obj);
        return obj;
    }
    case H_CODE:
        return r_code(r, b, depth);
    case H_INTERNED2: { /* 2.x 't': an 8-bit string that joins the string table */
        if ((n = r_size(r)) < 0)
            return NULL;
        if (r->strings == NULL && (r->strings = PyList_New(0)) == NULL)
            return NULL;
        PyObject *vals[3] = {
            PyBytes_FromStringAndSize((const char *)r->p + r->pos, n), code_str(b), new_bool(0)};
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
    default:
        return NULL;
    }
    if (obj != NULL && r_ref(r, flag, obj) < 0) {
        Py_DECREF(obj);
        return NULL;
    }
    return obj;
}

/* read(plan, data: bytes, pos) -> (value, end) or None (the pure-Python reader decides) */
static PyObject *
sp_read(PyObject *self, PyObject *args)
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
    Reader r = {(const unsigned char *)buf.buf, pos, buf.len, PyList_New(0), NULL, plan};
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
} Writer;

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
    char *b = PyMem_Realloc(w->buf, cap);
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
map_get(const PtrMap *w, PyObject *o)
{
    if (w->keys == NULL)
        return -1;
    size_t i = ptr_hash(o) & (size_t)w->mask;
    while (w->keys[i] != NULL) {
        if (w->keys[i] == o)
            return w->idx[i];
        i = (i + 1) & (size_t)w->mask;
    }
    return -1;
}

/* Give o (not in the map) the next index. */
static int
map_add(PtrMap *w, PyObject *o)
{
    if (w->keys == NULL || 2 * (w->count + 1) > w->mask + 1) {
        Py_ssize_t size = w->keys ? 2 * (w->mask + 1) : 256;
        PyObject **keys = PyMem_Calloc((size_t)size, sizeof(PyObject *));
        Py_ssize_t *idx = PyMem_Calloc((size_t)size, sizeof(Py_ssize_t));
        if (keys == NULL || idx == NULL) {
            PyMem_Free(keys);
            PyMem_Free(idx);
            return -1;
        }
        for (Py_ssize_t j = 0; w->keys && j <= w->mask; j++) {
            if (w->keys[j] != NULL) {
                size_t i = ptr_hash(w->keys[j]) & (size_t)(size - 1);
                while (keys[i] != NULL)
                    i = (i + 1) & (size_t)(size - 1);
                keys[i] = w->keys[j];
                idx[i] = w->idx[j];
            }
        }
        PyMem_Free(w->keys);
        PyMem_Free(w->idx);
        w->keys = keys;
        w->idx = idx;
        w->mask = size - 1;
    }
    size_t i = ptr_hash(o) & (size_t)w->mask;
    while (w->keys[i] != NULL)
        i = (i + 1) & (size_t)w->mask;
    w->keys[i] = o;
    w->idx[i] = w->count++;
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

/* The type byte (FLAG_REF clear) of a value of kind k whose code slot is at off; -1 bails. */
static inline int
w_code_byte(const Writer *w, int k, PyObject *v)
{
    PyObject *code = SLOT(v, w->plan->cls[k].code_off);
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
    if (n && depth >= w->plan->max_depth)
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
    PyObject *text = SLOT(v, w->plan->cls[K_STR].off[0]);
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
    PyObject *value = SLOT(v, w->plan->cls[K_INT].off[0]);
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
    PyObject *value = SLOT(v, ci->off[0]);
    if (value == NULL || !PyLong_CheckExact(value) || SLOT(v, ci->off[3]) != Py_None)
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

static int
w_dict(Writer *w, PyObject *v, int depth)
{
    PyObject *items = SLOT(v, w->plan->cls[K_DICT].off[0]);
    if (items == NULL || !PyList_CheckExact(items) || depth >= w->plan->max_depth)
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
    if (depth >= plan->max_depth || w_byte(w, plan->code_type_byte | flag) < 0)
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
                if (w_object(w, SLOT(v, ci->off[f++]), depth + 1) < 0)
                    return -1;
            }
        }
        else {
            for (int i = 0; i < -k; i++) {
                PyObject *x = SLOT(v, ci->off[f++]);
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
    if (v == NULL)
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
    else if (plan->has_code && t == plan->cls[K_CODE].type)
        k = K_CODE;
    else {
        for (k = 0; k < K_CODE; k++) {
            if (t == plan->cls[k].type)
                break;
        }
        if (k == K_CODE)
            return -1;
    }
    const ClassInfo *ci = &plan->cls[k];
    PyObject *f = SLOT(v, ci->flag_off);
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
        PyObject *raw = SLOT(v, ci->off[0]);
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
        return b == 'g' ? w_raw8(w, SLOT(v, ci->off[0])) : w_text(w, SLOT(v, ci->off[0]));
    case K_COMPLEX:
        if (w_byte(w, b | flag) < 0)
            return -1;
        if (b == 'y')
            return w_raw8(w, SLOT(v, ci->off[0])) < 0 ? -1 : w_raw8(w, SLOT(v, ci->off[1]));
        return w_text(w, SLOT(v, ci->off[0])) < 0 ? -1 : w_text(w, SLOT(v, ci->off[1]));
    case K_DICT:
        return w_byte(w, b | flag) < 0 ? -1 : w_dict(w, v, depth);
    case K_TUPLE:
    case K_LIST:
    case K_SET:
    case K_FROZENSET: {
        PyObject *items = SLOT(v, ci->off[0]);
        if (items == NULL || !(PyList_CheckExact(items) || PyTuple_CheckExact(items)))
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
sp_write(PyObject *self, PyObject *args)
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
    int err = w_object(&w, value, 1);
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
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* Header scan                                                                           */

#ifndef MS_WINDOWS
/* heads(paths: list[str], size) -> list: for each path, its first ``size`` bytes (fewer
 * if the file is shorter) or the OSError that opening or reading it raised.  What
 * scan_headers does per file, without a Python call per system call. */
static PyObject *
heads(PyObject *self, PyObject *args)
{
    PyObject *paths;
    int size;
    if (!PyArg_ParseTuple(args, "O!i", &PyList_Type, &paths, &size))
        return NULL;
    if (size < 0 || size > 64) {
        PyErr_SetString(PyExc_ValueError, "size must be 0-64");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(paths);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *path = PyList_GET_ITEM(paths, i), *encoded = NULL, *item;
        if (!PyUnicode_FSConverter(path, &encoded)) {
            Py_DECREF(out);
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
            return NULL;
        }
        PyList_SET_ITEM(out, i, item);
    }
    return out;
}
#endif

/* ------------------------------------------------------------------------------------ */

static PyMethodDef methods[] = {
    {"make_plan", make_plan, METH_VARARGS, "A plan for one format (see pycfile/_accel.py)."},
    {"read", sp_read, METH_VARARGS, "read(plan, data, pos) -> (value, end), or None to fall back."},
    {"write", sp_write, METH_VARARGS, "write(plan, value) -> bytes, or None to fall back."},
#ifndef MS_WINDOWS
    {"heads", heads, METH_VARARGS, "heads(paths, size) -> [first size bytes or OSError for each path]."},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "pycfile._speedups",
    "Optional C accelerator of pycfile's marshal reader and writer.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    for (int c = 0; c < 128; c++) {
        char s[2] = {(char)c, 0};
        if (c == 0)
            continue;
        CODE_STR[c] = PyUnicode_InternFromString(s);
        if (CODE_STR[c] == NULL)
            return NULL;
    }
    return PyModule_Create(&module);
}
