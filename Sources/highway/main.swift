import HighwayKit
print("highway")
