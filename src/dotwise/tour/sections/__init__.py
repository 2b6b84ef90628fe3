"""Tour sections, one module each; see :mod:`dotwise.tour` for the contract.

Orders in use: 10–19 vectors & subspaces, 20–29 orthogonalization & least
squares, 30–39 regression & PCA, 40–49 attention, 50–59 search & songs,
60–69 movie recommender, 70–79 images, 90+ closing notes.
"""
