print("sledger")
