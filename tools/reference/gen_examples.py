#!/usr/bin/python3
"""Writes tests/data/examples/reference.json: PyTorch's losses for the first steps of each
example's fixed run (examples/*/NAME.cpp --fixed; examples/common/fixed_run.h says what "fixed"
means: closed-form init and data instead of random draws, so both frameworks see the same numbers).

    /usr/bin/python3 tools/reference/gen_examples.py          # writes the file
    /usr/bin/python3 tools/reference/gen_examples.py --check  # fails if the file is stale

Each entry: {"losses": [loss after step 1, 2, ...], "rtol": relative tolerance}. The tolerance
covers float32 rounding that differs between the two frameworks' kernels (summation order,
fused multiply-adds) as it grows over the steps: stated per example, never loosened to pass.
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, write_or_check  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "examples",
                   "reference.json")


# ── examples/common/fixed_run.h, in PyTorch ────────────────────────────────────────────────────

def fixed_values(sizes, phase, scale):
    """scale · sin(phase + 0.7071 · i) over the flat index i, in float64, then float32."""
    n = math.prod(sizes)
    i = torch.arange(0, n, dtype=torch.float64)
    return (i * 0.7071 + phase).sin().mul(scale).reshape(sizes).to(torch.float32)


def fixed_init(module):
    """Every parameter from its closed form: phase from the name's bytes, scale 1/sqrt(fan_in)
    (a bias takes its weight's fan_in)."""
    params = dict(module.named_parameters())

    def fan_in(w):
        return w.numel() / w.shape[0] if w.dim() >= 2 else 1.0

    with torch.no_grad():
        for name, p in params.items():
            phase = sum(name.encode()) * 0.01
            prefix = name[:name.rfind(".") + 1]
            weight = params.get(prefix + "weight")
            fan = fan_in(p) if p.dim() >= 2 else (fan_in(weight) if weight is not None else 1.0)
            p.copy_(fixed_values(list(p.shape), phase, 1.0 / math.sqrt(fan)))


# ── the examples ───────────────────────────────────────────────────────────────────────────────

def regression(steps):
    """examples/regression: Linear(4, 1), smooth L1, SGD(lr 0.1), batches of 32."""
    degree, batch = 4, 32
    w_target = fixed_values([degree, 1], 0.3, 2.0)
    b_target = fixed_values([1], 1.1, 2.0)
    fc = torch.nn.Linear(degree, 1)
    fixed_init(fc)
    optimizer = torch.optim.SGD(fc.parameters(), lr=0.1)
    losses = []
    for step in range(1, steps + 1):
        x = (torch.arange((step - 1) * batch, step * batch, dtype=torch.float64) * 1.3 + 0.5)
        x = x.sin().to(torch.float32)
        features = torch.cat([x.unsqueeze(1) ** i for i in range(1, degree + 1)], 1)
        target = features.mm(w_target) + b_target
        optimizer.zero_grad()
        loss = F.smooth_l1_loss(fc(features), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"losses": losses, "rtol": 1e-4}


class Softplus(torch.autograd.Function):
    """examples/autograd's hand-written softplus: log(1 + e^x), backward sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp_min(0) + ((-x.abs()).exp() + 1).log()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


class Critic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(2, 16)
        self.fc2 = torch.nn.Linear(16, 1)

    def forward(self, x):
        return self.fc2(Softplus.apply(self.fc1(x)))


def autograd_penalty(steps):
    """examples/autograd: a critic trained with a gradient penalty (create_graph), SGD(0.01,
    momentum 0.5), batches of 64."""
    batch, lam = 64, 10.0
    critic = Critic()
    fixed_init(critic)
    optimizer = torch.optim.SGD(critic.parameters(), lr=0.01, momentum=0.5)
    losses = []
    for step in range(1, steps + 1):
        i = torch.arange((step - 1) * batch, step * batch, dtype=torch.float64)
        angle = (i * 2.4).to(torch.float32)
        fake = torch.stack([(i * 0.9).sin(), (i * 1.7).cos()], 1).mul(0.5).to(torch.float32)
        mix = (i * 0.37).sin().abs().unsqueeze(1).to(torch.float32)
        real = torch.stack([angle.cos(), angle.sin()], 1) * 2
        between = (mix * real + (1 - mix) * fake).requires_grad_(True)
        optimizer.zero_grad()
        score = critic(between)
        (grad_x,) = torch.autograd.grad(score.sum(), between, retain_graph=True,
                                        create_graph=True)
        penalty = (grad_x.norm(2, 1) - 1).pow(2).mean()
        loss = critic(fake).mean() - critic(real).mean() + lam * penalty
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"losses": losses, "rtol": 1e-4}


def custom_dataset(epochs):
    """examples/custom_dataset: 96 8x8 PGM stripes (the formula of pixel() there, rounded the
    same way), Normalize(0.5, 0.25), batches of 16 in order, 64 -> 16 -> 2, SGD(0.05, momentum
    0.9), cross-entropy; one loss per batch."""
    side, images = 8, 96

    def pixel(k, r, c):
        along = r if k % 2 == 0 else c
        return math.floor(127.5 + 120.0 * math.sin(along * 1.9 + 0.37 * k) + 0.5)

    x = torch.tensor([[[pixel(k, r, c) for c in range(side)] for r in range(side)]
                      for k in range(images)], dtype=torch.float32)
    x = ((x / 255 - 0.5) / 0.25).unsqueeze(1)  # [96, 1, 8, 8]
    y = torch.tensor([k % 2 for k in range(images)])
    net = torch.nn.Sequential()
    net.add_module("fc1", torch.nn.Linear(side * side, 16))
    net.add_module("relu", torch.nn.ReLU())
    net.add_module("fc2", torch.nn.Linear(16, 2))
    fixed_init(net)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(epochs):
        for start in range(0, images, 16):
            optimizer.zero_grad()
            loss = F.cross_entropy(net(x[start:start + 16].flatten(1)), y[start:start + 16])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return {"losses": losses, "steps": epochs, "rtol": 1e-4}


FASHION = "/usr/share/datasets/fashion-mnist/"


def fashion_mnist(n):
    """The first n training images of Debian's Fashion-MNIST as [n, 1, 28, 28] in [0, 1], and
    their labels."""
    import gzip
    with gzip.open(FASHION + "train-images-idx3-ubyte.gz") as f:
        raw = f.read()
    with gzip.open(FASHION + "train-labels-idx1-ubyte.gz") as f:
        labels = f.read()
    x = torch.tensor(list(raw[16:16 + n * 784]), dtype=torch.float32).view(n, 1, 28, 28) / 255
    return x, torch.tensor(list(labels[8:8 + n]), dtype=torch.int64)


def mnist(batches):
    """examples/mnist: libtorch's MNIST network on Debian's Fashion-MNIST, Normalize(0.2860,
    0.3530), the first `batches` batches of 64 in order, dropout off (p = 0 in a fixed run),
    SGD(0.01, momentum 0.5), nll_loss of log_softmax."""
    x, y = fashion_mnist(batches * 64)
    x = (x - 0.2860) / 0.3530

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 10, 5)
            self.conv2 = torch.nn.Conv2d(10, 20, 5)
            self.fc1 = torch.nn.Linear(320, 50)
            self.fc2 = torch.nn.Linear(50, 10)

        def forward(self, v):
            v = F.relu(F.max_pool2d(self.conv1(v), 2))
            v = F.relu(F.max_pool2d(self.conv2(v), 2)).view(-1, 320)
            return F.log_softmax(self.fc2(F.relu(self.fc1(v))), 1)

    net = Net()
    fixed_init(net)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    losses = []
    for b in range(batches):
        optimizer.zero_grad()
        loss = F.nll_loss(net(x[b * 64:(b + 1) * 64]), y[b * 64:(b + 1) * 64])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"losses": losses, "steps": 1, "rtol": 1e-4,
            "needs": FASHION + "train-images-idx3-ubyte.gz"}


def dcgan(batches):
    """examples/dcgan: generator and discriminator as there, Normalize(0.5, 0.5), the first
    `batches` batches of 64 in order, noise = fixed_values([64, 100, 1, 1], 0.1 * batch, 1),
    real labels 0.9, Adam(2e-4, betas (0.5, 0.999)), binary cross-entropy. Two losses per batch:
    the discriminator's, then the generator's."""
    nn = torch.nn
    x, _ = fashion_mnist(batches * 64)
    x = (x - 0.5) / 0.5

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.ConvTranspose2d(100, 256, 4, bias=False)
            self.conv2 = nn.ConvTranspose2d(256, 128, 3, stride=2, padding=1, bias=False)
            self.conv3 = nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, bias=False)
            self.conv4 = nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1, bias=False)
            self.batch_norm1 = nn.BatchNorm2d(256)
            self.batch_norm2 = nn.BatchNorm2d(128)
            self.batch_norm3 = nn.BatchNorm2d(64)

        def forward(self, v):
            v = F.relu(self.batch_norm1(self.conv1(v)))
            v = F.relu(self.batch_norm2(self.conv2(v)))
            v = F.relu(self.batch_norm3(self.conv3(v)))
            return torch.tanh(self.conv4(v))

    generator = Generator()
    discriminator = nn.Sequential(
        nn.Conv2d(1, 64, 4, stride=2, padding=1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(128),
        nn.LeakyReLU(0.2),
        nn.Conv2d(128, 256, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(256),
        nn.LeakyReLU(0.2),
        nn.Conv2d(256, 1, 3, stride=1, padding=0, bias=False), nn.Sigmoid())
    fixed_init(generator)
    fixed_init(discriminator)
    g_opt = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    losses = []
    for b in range(batches):
        real = x[b * 64:(b + 1) * 64]
        noise = fixed_values([64, 100, 1, 1], 0.1 * b, 1.0)
        discriminator.zero_grad()
        d_loss_real = F.binary_cross_entropy(discriminator(real).reshape(64),
                                             torch.full([64], 0.9))
        d_loss_real.backward()
        fake = generator(noise)
        d_loss_fake = F.binary_cross_entropy(discriminator(fake.detach()).reshape(64),
                                             torch.zeros(64))
        d_loss_fake.backward()
        d_opt.step()
        generator.zero_grad()
        g_loss = F.binary_cross_entropy(discriminator(fake).reshape(64), torch.ones(64))
        g_loss.backward()
        g_opt.step()
        losses += [(d_loss_real + d_loss_fake).item(), g_loss.item()]
    # 3e-3: Adam's first steps move each weight by about lr · sign(gradient), so a weight whose
    # gradient is near 0 moves either way on a rounding difference; BatchNorm and the sigmoid
    # carry that on. Measured on Zen 4 (AVX-512 and AVX2 paths): worst 7.5e-4 over the 8 losses.
    return {"losses": losses, "steps": 1, "rtol": 3e-3,
            "needs": FASHION + "train-images-idx3-ubyte.gz"}


def char_lstm(steps):
    """examples/char_lstm: the fortunes file's bytes, vocabulary = its distinct bytes in order,
    windows of 64 in order (batch 16), Embedding(V, 32) -> LSTM(32, 128, 2 layers, batch_first,
    dropout 0) -> Linear(128, V), Adam(3e-3), clip_grad_norm_ 1.0, cross-entropy."""
    path = "/usr/share/games/fortunes/fortunes"
    with open(path, "rb") as f:
        text = f.read()
    vocab = sorted(set(text))
    lookup = {b: i for i, b in enumerate(vocab)}
    data = torch.tensor([lookup[b] for b in text], dtype=torch.int64)
    window, batch = 64, 16

    class CharLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(len(vocab), 32)
            self.lstm = torch.nn.LSTM(32, 128, num_layers=2, batch_first=True)
            self.head = torch.nn.Linear(128, len(vocab))

        def forward(self, tokens):
            return self.head(self.lstm(self.embed(tokens))[0])

    model = CharLSTM()
    fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    windows = (len(data) - 1) // window
    losses = []
    for step in range(1, steps + 1):
        starts = (torch.arange((step - 1) * batch, step * batch) % windows) * window
        index = starts.unsqueeze(1) + torch.arange(window).unsqueeze(0)
        optimizer.zero_grad()
        logits = model(data[index])
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), data[index + 1].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return {"losses": losses, "rtol": 1e-3, "needs": path}


def sentence_classification(batches):
    """examples/sentence_classification: five fortune files, every fifth fortune held out, the
    training fortunes ordered by (position in file, topic), words of [a-z'] lowercased, the
    vocabulary = training words seen twice or more in alphabetical order after <pad>, <unk>; 40
    words per fortune; Embedding(V, 64) -> Conv1d(64, 32, k) for k = 3, 4, 5 -> relu -> max over
    time -> cat -> Linear(96, 5), dropout off, Adam(1e-3), batches of 32 in order."""
    import re
    topics = ["computers", "food", "love", "science", "sports"]
    root = "/usr/share/games/fortunes/"
    train, test = [], []
    for t, name in enumerate(topics):
        with open(root + name, "rb") as f:
            lines = f.read().split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()  # the newline that ends the last line starts no line
        fortunes, current = [], []
        for line in lines:
            if line == b"%":
                if current:
                    fortunes.append(current)
                    current = []
                continue
            current += [w.decode() for w in re.findall(rb"[a-z']+", line.lower())]
        if current:
            fortunes.append(current)
        for i, words in enumerate(fortunes):
            (test if i % 5 == 4 else train).append((i, t, words))
    train.sort(key=lambda item: (item[0], item[1]))
    counts = {}
    for _, _, words in train:
        for w in words:
            counts[w] = counts.get(w, 0) + 1
    vocab = {w: i + 2 for i, w in enumerate(sorted(w for w, n in counts.items() if n >= 2))}
    ids = torch.zeros(len(train), 40, dtype=torch.int64)
    for r, (_, _, words) in enumerate(train):
        for c, w in enumerate(words[:40]):
            ids[r, c] = vocab.get(w, 1)
    labels = torch.tensor([t for _, t, _ in train])

    class TextCNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(len(vocab) + 2, 64)
            self.conv3 = torch.nn.Conv1d(64, 32, 3)
            self.conv4 = torch.nn.Conv1d(64, 32, 4)
            self.conv5 = torch.nn.Conv1d(64, 32, 5)
            self.fc = torch.nn.Linear(96, 5)

        def forward(self, v):
            x = self.embed(v).transpose(1, 2)
            pooled = [F.relu(conv(x)).max(2)[0] for conv in (self.conv3, self.conv4, self.conv5)]
            return self.fc(torch.cat(pooled, 1))

    model = TextCNN()
    fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for b in range(batches):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(ids[b * 32:(b + 1) * 32]), labels[b * 32:(b + 1) * 32])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"losses": losses, "steps": 1, "rtol": 1e-3, "needs": root + "sports"}


EXAMPLES = {
    "regression": lambda: regression(50),
    "autograd": lambda: autograd_penalty(30),
    "custom_dataset": lambda: custom_dataset(3),
    "mnist": lambda: mnist(20),
    "dcgan": lambda: dcgan(4),
    "char_lstm": lambda: char_lstm(20),
    "sentence_classification": lambda: sentence_classification(20),
}


def main():
    opts = command_line(__doc__, OUT)
    torch.set_num_threads(1)
    doc = {**header(__file__)}
    for name, run in EXAMPLES.items():
        doc[name] = run()
    # One example per line: readable diffs when an example changes.
    text = "{\n" + ",\n".join(f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}"
                              for k, v in doc.items()) + "\n}\n"
    return write_or_check(opts.out, text, opts.check, f"{len(EXAMPLES)} examples")


if __name__ == "__main__":
    sys.exit(main())
