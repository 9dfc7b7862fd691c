"""Constants of the inference tests: penguin features, species, and a module of models."""

import textwrap

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
SPECIES = ["Adelie", "Chinstrap", "Gentoo"]

MODULE = textwrap.dedent(
    """
    import numpy as np
    import torch


    class MLP(torch.nn.Module):
        def __init__(self, n_in=4, hidden=16, n_out=3):
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_out)
            )

        def forward(self, x):
            return self.net(x)


    def scale(batch):
        out = batch.copy()
        out["body_mass_g"] = out["body_mass_g"] / 1000.0
        return out


    def fill_means(batch):
        return batch.fillna({"bill_length_mm": 44.0, "bill_depth_mm": 17.0,
                             "flipper_length_mm": 200.0, "body_mass_g": 4200.0})


    def add_flag(predictions):
        out = predictions.copy()
        out["is_gentoo"] = out["prediction"] == "Gentoo"
        return out


    def gentoo_only(batch):
        return batch[batch["a_prediction"] == "Gentoo"]
    """
)
