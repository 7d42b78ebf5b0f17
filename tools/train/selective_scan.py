"""Mamba-1 selective scan for training: a Triton kernel (forward + backward) and a PyTorch reference.

    h_t = exp(dt_t * A) * h_{t-1} + dt_t * B_t * u_t      h: [D, N] per sequence, h_0 = 0
    y_t = sum_n h_t[:, n] * C_t[n]

u, dt: [Bt, T, D]; A: [D, N]; Bm, Cm: [Bt, T, N]; returns y [Bt, T, D] (all float32).
The D-skip and the z gate stay outside (plain PyTorch). The forward keeps the state at every
CHUNK-th step; the backward recomputes the states of one chunk at a time from that checkpoint into
a scratch buffer and walks the chunk backwards, so memory stays O(T/CHUNK * D * N).

On a machine without CUDA set TRITON_INTERPRET=1 before importing this module (train-sample-model
does) to run the same kernels in Triton's interpreter for tests.
"""
import torch
import triton
import triton.language as tl

CHUNK = 64


def scan_reference(u, dt, A, Bm, Cm):
    """Sequential scan in PyTorch (float32): the ground truth the kernel is tested against."""
    Bt, T, D = u.shape
    h = torch.zeros(Bt, D, A.shape[1], dtype=torch.float32, device=u.device)  # [Bt, D, N]
    ys = []
    for t in range(T):
        a = torch.exp(dt[:, t, :, None] * A[None])                              # [Bt, D, N]
        h = a * h + (dt[:, t] * u[:, t])[:, :, None] * Bm[:, t, None, :]
        ys.append((h * Cm[:, t, None, :]).sum(-1))
    return torch.stack(ys, 1)


@triton.jit
def _scan_fwd(u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, y_ptr, ck_ptr, hlast_ptr, T, D,
              N: tl.constexpr, BLOCK_D: tl.constexpr, CH: tl.constexpr):
    b = tl.program_id(0)
    pd = tl.program_id(1)
    d = pd * BLOCK_D + tl.arange(0, BLOCK_D)                    # [BD]
    n = tl.arange(0, N)                                          # [N]
    dm = d < D
    A = tl.load(A_ptr + d[:, None] * N + n[None, :], mask=dm[:, None], other=0.0)  # [BD, N]
    h = tl.zeros([BLOCK_D, N], dtype=tl.float32)
    nck = tl.cdiv(T, CH)
    for t in range(0, T):
        if t % CH == 0:
            c = t // CH
            tl.store(ck_ptr + ((b * nck + c) * D + d[:, None]) * N + n[None, :], h, mask=dm[:, None])
        row = b * T + t
        dt = tl.load(dt_ptr + row * D + d, mask=dm, other=0.0)   # [BD]
        u = tl.load(u_ptr + row * D + d, mask=dm, other=0.0)
        Bv = tl.load(B_ptr + row * N + n)                         # [N]
        Cv = tl.load(C_ptr + row * N + n)
        a = tl.exp(dt[:, None] * A)
        h = a * h + (dt * u)[:, None] * Bv[None, :]
        y = tl.sum(h * Cv[None, :], axis=1)
        tl.store(y_ptr + row * D + d, y, mask=dm)
    tl.store(hlast_ptr + (b * D + d[:, None]) * N + n[None, :], h, mask=dm[:, None])


@triton.jit
def _scan_bwd(u_ptr, dt_ptr, A_ptr, B_ptr, C_ptr, dy_ptr, ck_ptr, hs_ptr,
              du_ptr, ddt_ptr, dA_ptr, dB_ptr, dC_ptr, T, D, NDB,
              N: tl.constexpr, BLOCK_D: tl.constexpr, CH: tl.constexpr):
    b = tl.program_id(0)
    pd = tl.program_id(1)
    d = pd * BLOCK_D + tl.arange(0, BLOCK_D)
    n = tl.arange(0, N)
    dm = d < D
    m2 = dm[:, None]
    A = tl.load(A_ptr + d[:, None] * N + n[None, :], mask=m2, other=0.0)
    nck = tl.cdiv(T, CH)
    dh = tl.zeros([BLOCK_D, N], dtype=tl.float32)     # dL/dh_t carried backwards (times a_{t+1})
    dA = tl.zeros([BLOCK_D, N], dtype=tl.float32)
    # scratch for this program: CH states of [BD, N]
    hs_base = hs_ptr + (b * NDB + pd) * CH * BLOCK_D * N
    sidx = tl.arange(0, BLOCK_D)[:, None] * N + n[None, :]
    for ci in range(0, nck):
        c = nck - 1 - ci
        t0 = c * CH
        h = tl.load(ck_ptr + ((b * nck + c) * D + d[:, None]) * N + n[None, :], mask=m2, other=0.0)
        h0 = h
        # recompute h_t for the chunk (steps past T have dt = u = 0: state unchanged)
        for i in range(0, CH):
            t = t0 + i
            dmt = dm & ((d * 0 + t) < T)
            nmt = (n * 0 + t) < T
            row = b * T + t
            dt = tl.load(dt_ptr + row * D + d, mask=dmt, other=0.0)
            u = tl.load(u_ptr + row * D + d, mask=dmt, other=0.0)
            Bv = tl.load(B_ptr + row * N + n, mask=nmt, other=0.0)
            h = tl.exp(dt[:, None] * A) * h + (dt * u)[:, None] * Bv[None, :]
            tl.store(hs_base + i * BLOCK_D * N + sidx, h)
        tl.debug_barrier()
        for j in range(0, CH):
            i = CH - 1 - j
            t = t0 + i
            dmt = dm & ((d * 0 + t) < T)
            nmt = (n * 0 + t) < T
            row = b * T + t
            dt = tl.load(dt_ptr + row * D + d, mask=dmt, other=0.0)
            u = tl.load(u_ptr + row * D + d, mask=dmt, other=0.0)
            Bv = tl.load(B_ptr + row * N + n, mask=nmt, other=0.0)
            Cv = tl.load(C_ptr + row * N + n, mask=nmt, other=0.0)
            dy = tl.load(dy_ptr + row * D + d, mask=dmt, other=0.0)
            h_t = tl.load(hs_base + i * BLOCK_D * N + sidx)
            if i > 0:
                h_p = tl.load(hs_base + (i - 1) * BLOCK_D * N + sidx)
            else:
                h_p = h0
            dh = dh + dy[:, None] * Cv[None, :]
            a = tl.exp(dt[:, None] * A)
            g = dh * a * h_p                                       # [BD, N]
            ddt = tl.sum(g * A + dh * Bv[None, :] * u[:, None], axis=1)
            dA += g * dt[:, None]
            du = tl.sum(dh * Bv[None, :], axis=1) * dt
            dBp = tl.sum(dh * (dt * u)[:, None], axis=0)           # [N] partial over this d-block
            dCp = tl.sum(h_t * dy[:, None], axis=0)
            tl.store(du_ptr + row * D + d, du, mask=dmt)
            tl.store(ddt_ptr + row * D + d, ddt, mask=dmt)
            tl.store(dB_ptr + ((b * NDB + pd) * T + t) * N + n, dBp, mask=nmt)
            tl.store(dC_ptr + ((b * NDB + pd) * T + t) * N + n, dCp, mask=nmt)
            dh = dh * a
        tl.debug_barrier()
    tl.store(dA_ptr + (b * D + d[:, None]) * N + n[None, :], dA, mask=m2)


def _block_d(D):
    return 32 if D >= 32 else triton.next_power_of_2(D)


class _Scan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u, dt, A, Bm, Cm):
        u, dt, A, Bm, Cm = (x.float().contiguous() for x in (u, dt, A, Bm, Cm))
        Bt, T, D = u.shape
        N = A.shape[1]
        BD = _block_d(D)
        nck = triton.cdiv(T, CHUNK)
        y = torch.empty_like(u)
        ck = torch.empty(Bt, nck, D, N, device=u.device, dtype=torch.float32)
        hlast = torch.empty(Bt, D, N, device=u.device, dtype=torch.float32)
        _scan_fwd[(Bt, triton.cdiv(D, BD))](u, dt, A, Bm, Cm, y, ck, hlast, T, D,
                                             N=N, BLOCK_D=BD, CH=CHUNK)
        ctx.save_for_backward(u, dt, A, Bm, Cm, ck)
        return y

    @staticmethod
    def backward(ctx, dy):
        u, dt, A, Bm, Cm, ck = ctx.saved_tensors
        dy = dy.float().contiguous()
        Bt, T, D = u.shape
        N = A.shape[1]
        BD = _block_d(D)
        ndb = triton.cdiv(D, BD)
        hs = torch.empty(Bt, ndb, CHUNK, BD, N, device=u.device, dtype=torch.float32)
        du, ddt = torch.empty_like(u), torch.empty_like(dt)
        dA = torch.empty(Bt, D, N, device=u.device, dtype=torch.float32)
        dBp = torch.empty(Bt, ndb, T, N, device=u.device, dtype=torch.float32)
        dCp = torch.empty(Bt, ndb, T, N, device=u.device, dtype=torch.float32)
        _scan_bwd[(Bt, ndb)](u, dt, A, Bm, Cm, dy, ck, hs, du, ddt, dA, dBp, dCp, T, D, ndb,
                             N=N, BLOCK_D=BD, CH=CHUNK)
        return du, ddt, dA.sum(0), dBp.sum(1), dCp.sum(1)


def scan(u, dt, A, Bm, Cm):
    """Triton selective scan with autograd; float32 result [Bt, T, D]."""
    return _Scan.apply(u, dt, A, Bm, Cm)
